// The pieces of bench/large/run.sh that speak Temporal or S3 (see README.md):
//   notes FILE ROWS                          the demo's fictitious patient notes as JSON Lines
//   start DATASET ANALYST JOB BASE ROWS BATCH SEQ STEPS HEARTBEAT_S [LORA_RANK LORA_TARGETS ADAPTER_ONLY]
//                                            starts the fine-tune (DP-LoRA when LORA_RANK is given), prints its job id
//   checkpoints JOB                          committed checkpoints: step, shard files, bytes (JSON; the first and last 3 of many)
//   wait-checkpoint JOB MIN TIMEOUT_S        waits for a committed checkpoint at step ≥ MIN, prints its step
//   wait-resumed JOB TIMEOUT_S               waits for the train activity's retry to heartbeat, prints its attempt and progress
//   train-attempts JOB                       the train activity's attempts and the worker of each (JSON)
// The fine-tune starts through the SDK, not `veil finetune`, for one field the CLI has no flag for:
// physicalBatchSize (VEIL_LARGE_PHYSICAL_BATCH, else the batch: a Poisson batch larger than that is
// split into micro-batches, and a step of several holds a second gradient-sized buffer).
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTemporal } from '../../clients/cli/command-line.ts';
import { generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { showJob } from '../../clients/sdk/jobs/list.ts';
import { startFineTune } from '../../clients/sdk/jobs/start.ts';
import type { FineTuneInput } from '../../contracts/fine-tune.ts';
import { ArtifactStore, checkpointPrefix, checkpointsRoot } from '../../infra/storage/index.ts';

const TEST_FRACTION = 0.1;

async function committedCheckpoints(store: ArtifactStore, jobId: string): Promise<{ step: number; shards: number; bytes: number }[]> {
  const out: { step: number; shards: number; bytes: number }[] = [];
  for (const name of await store.listPrefixes(checkpointsRoot(jobId))) {
    const step = Number(/^step-(\d+)$/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(step)) continue;
    const manifest = await store.tryReadManifest(checkpointPrefix(jobId, step));
    if (!manifest) continue; // shards written, not committed: an attempt died mid-upload
    const entries = Object.entries(manifest.entries);
    out.push({ step, shards: entries.filter(([path]) => path.endsWith('.safetensors')).length, bytes: entries.reduce((n, [, e]) => n + e.size, 0) });
  }
  return out.sort((a, b) => a.step - b.step);
}

const [command, ...args] = process.argv.slice(2);
switch (command) {
  case 'notes': {
    const [file, rows] = args;
    const notes = generatePatientNotes({ rows: Number(rows), secretCopies: 2, seed: 'bench-large' });
    await writeFile(file, notes.map((r) => JSON.stringify(r)).join('\n') + '\n');
    break;
  }
  case 'start': {
    const [dataset, analyst, jobId, base, rows, batch, seq, steps, heartbeatS, loraRank, loraTargets, adapterOnly] = args;
    const lora = loraRank ? { rank: Number(loraRank), targets: loraTargets.split(','), merge: adapterOnly !== '1' } : undefined;
    const trainRows = Number(rows) - Math.round(Number(rows) * TEST_FRACTION);
    const input: FineTuneInput = {
      jobId,
      analyst,
      dataset: { name: dataset },
      textColumn: 'note',
      split: { kind: 'ratio', testFraction: TEST_FRACTION },
      model: { base, seed: 'bench-large', maxSeqLen: Number(seq), ...(lora ? { lora } : {}) },
      // steps = round(epochs · N / batch): this many epochs gives STEPS steps, each checkpointed.
      training: { targetEpsilon: 8, delta: 1e-5, batchSize: Number(batch), epochs: (Number(steps) * Number(batch)) / trainRows, maxGradNorm: 1, lr: 1e-4, physicalBatchSize: Number(process.env.VEIL_LARGE_PHYSICAL_BATCH ?? batch), checkpointEvery: 1 },
      trainHeartbeatTimeoutSeconds: Number(heartbeatS),
    } as FineTuneInput;
    const job = await withTemporal((client, taskQueue) => startFineTune(client, input, { taskQueue, token: process.env.VEIL_TOKEN! }));
    console.log(job.jobId);
    break;
  }
  case 'checkpoints': {
    const all = await committedCheckpoints(await ArtifactStore.fromConfig(), args[0]);
    console.log(JSON.stringify(all.length > 6 ? [...all.slice(0, 3), `… ${all.length - 6} more …`, ...all.slice(-3)] : all));
    break;
  }
  case 'wait-checkpoint': {
    const [jobId, min, timeoutS] = args;
    const store = await ArtifactStore.fromConfig();
    const deadline = Date.now() + Number(timeoutS) * 1000;
    for (;;) {
      const last = (await committedCheckpoints(store, jobId)).at(-1);
      if (last && last.step >= Number(min)) {
        console.log(last.step);
        break;
      }
      if (Date.now() > deadline) throw new Error(`no checkpoint at step ≥ ${min} after ${timeoutS} s`);
      await sleep(2_000);
    }
    break;
  }
  case 'wait-resumed': {
    // The retry heartbeats from its start; once it has read the last committed checkpoint, its
    // heartbeat carries the step it resumes from (totalSteps is 0 until then).
    const [jobId, timeoutS] = args;
    const deadline = Date.now() + Number(timeoutS) * 1000;
    const resumed = await withTemporal(async (client) => {
      for (;;) {
        const { activity, status } = await showJob(client, jobId);
        if (activity?.activity === 'train' && activity.attempt >= 2 && !activity.queued && (activity.progress?.totalSteps ?? 0) > 0) return activity;
        // A run short enough to end before the kill landed has nothing to resume.
        if (status !== 'running') throw new Error(`the job ended (${status}) without a retried train attempt: the kill came too late`);
        if (Date.now() > deadline) throw new Error(`no retried train attempt heartbeating after ${timeoutS} s`);
        await sleep(1_000);
      }
    });
    console.log(JSON.stringify({ attempt: resumed.attempt, progress: resumed.progress, previousAttemptFailed: resumed.lastFailure }));
    break;
  }
  case 'train-attempts': {
    const attempts = await withTemporal(async (client) => {
      const history = await client.workflow.getHandle(`finetune-${args[0]}`).fetchHistory();
      const scheduled = new Set<number>();
      const out: { attempt: number; worker: string }[] = [];
      for (const e of history.events ?? []) {
        if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'train') scheduled.add(Number(e.eventId));
        const started = e.activityTaskStartedEventAttributes;
        if (started && scheduled.has(Number(started.scheduledEventId))) out.push({ attempt: started.attempt ?? 1, worker: started.identity ?? '' });
      }
      return out;
    });
    console.log(JSON.stringify(attempts));
    break;
  }
  default:
    console.error('usage: helper.ts notes|start|checkpoints|wait-checkpoint|wait-resumed|train-attempts …');
    process.exit(2);
}
