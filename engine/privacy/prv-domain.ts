// The grid the PRV accountant discretises on, chosen as in Gopi et al. 2021 (and in
// prv_accountant / Opacus, whose numbers we reproduce):
//   - mesh h = ε_error / √(k·log(12/δ_error)/2) for k composed steps (Theorem 5.5): the
//     rounding errors of k mean-preserving discretisations then stay within ε_error except
//     with probability δ_error;
//   - half-width L = max(ε_RDP(δ_error/4) of the whole run, ε_RDP(δ_error/(8k)) of any one
//     step, ε_error) + 3 (Remark 5.6), so that the mass outside [−L, L] is negligible.
// One difference: the grid size is rounded UP to a power of two for our FFT by extending the
// upper end (more room, never less). If the grid would exceed `maxGridSize` the mesh is
// coarsened instead and ε_error grows accordingly; the bounds stay valid, only looser, and the
// accountant reports the ε_error it actually used.
import { rdpEpsilon, RdpAccountant } from './rdp-accountant.ts';
import type { CompositionGroup } from './history.ts';

export interface PrvDomain {
  /** Mesh size h. */
  mesh: number;
  /** Grid points t_i = (i − zeroIndex)·h, i = 0 … size − 1 (before the discretisation's mean shift). */
  zeroIndex: number;
  /** A power of two. */
  size: number;
  /** The ε error this mesh guarantees (the requested one unless the grid had to be coarsened). */
  epsilonError: number;
  /** Half-width L from the RDP bound. */
  halfWidth: number;
}

export const DEFAULT_MAX_GRID_SIZE = 2 ** 23;

export function meshForError(epsilonError: number, totalSteps: number, deltaError: number): number {
  return epsilonError / Math.sqrt((totalSteps * Math.log(12 / deltaError)) / 2);
}

export function safeHalfWidth(groups: readonly CompositionGroup[], epsilonError: number, deltaError: number): number {
  const totalSteps = groups.reduce((sum, g) => sum + g.steps, 0);
  const run = new RdpAccountant();
  for (const g of groups) run.step(g.sampleRate, g.noiseMultiplier, g.steps);
  let halfWidth = run.epsilon(deltaError / 4);
  for (const g of groups) halfWidth = Math.max(halfWidth, rdpEpsilon(g.sampleRate, g.noiseMultiplier, 1, deltaError / (8 * totalSteps)));
  return Math.max(halfWidth, epsilonError) + 3;
}

export function choosePrvDomain(groups: readonly CompositionGroup[], epsilonError: number, deltaError: number, maxGridSize = DEFAULT_MAX_GRID_SIZE): PrvDomain {
  const totalSteps = groups.reduce((sum, g) => sum + g.steps, 0);
  const halfWidth = safeHalfWidth(groups, epsilonError, deltaError);
  let mesh = meshForError(epsilonError, totalSteps, deltaError);
  let usedError = epsilonError;
  // Aligned as in prv_accountant: grid points at integer multiples of h, covering [−L, L].
  let zeroIndex = Math.ceil(halfWidth / mesh);
  let points = 2 * zeroIndex + 2;
  if (points > maxGridSize) {
    mesh = (2 * halfWidth) / (maxGridSize - 4);
    usedError = mesh * Math.sqrt((totalSteps * Math.log(12 / deltaError)) / 2);
    zeroIndex = Math.ceil(halfWidth / mesh);
    points = 2 * zeroIndex + 2;
  }
  const size = 2 ** Math.ceil(Math.log2(Math.max(points, 4)));
  return { mesh, zeroIndex, size, epsilonError: usedError, halfWidth };
}
