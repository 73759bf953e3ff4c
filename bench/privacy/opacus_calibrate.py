"""Times Opacus's get_noise_multiplier for the σ-calibration bench (bench/privacy/calibrate-noise.ts).

Usage: python opacus_calibrate.py --sample-rate Q --steps N --delta D --target-epsilon E --runs R [--accountant rdp|prv]
Prints one JSON object: sigma, epsilon (Opacus's ε at that σ), coldSeconds (first call),
seconds (each later call), evaluations (ε computations in one call), opacusVersion. Needs opacus (pip install opacus==1.6.0).
"""
import argparse
import json
import time
import warnings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample-rate", type=float, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--delta", type=float, required=True)
    parser.add_argument("--target-epsilon", type=float, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--accountant", default="rdp")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import opacus
    from opacus.accountants import create_accountant
    from opacus.accountants.utils import get_noise_multiplier

    # Count ε evaluations (for context: Veil's search takes fewer steps as well as faster ones).
    evaluations = [0]
    accountant_class = type(create_accountant(mechanism=args.accountant))
    original_get_epsilon = accountant_class.get_epsilon

    def counting_get_epsilon(self, *a, **k):
        evaluations[0] += 1
        return original_get_epsilon(self, *a, **k)

    accountant_class.get_epsilon = counting_get_epsilon

    def calibrate():
        return get_noise_multiplier(target_epsilon=args.target_epsilon, target_delta=args.delta, sample_rate=args.sample_rate,
                                    steps=args.steps, accountant=args.accountant, epsilon_tolerance=0.01)

    started = time.perf_counter()
    sigma = calibrate()
    cold = time.perf_counter() - started
    cold_evaluations = evaluations[0]
    seconds = []
    for _ in range(args.runs):
        started = time.perf_counter()
        calibrate()
        seconds.append(time.perf_counter() - started)
    accountant = create_accountant(mechanism=args.accountant)
    accountant.history = [(sigma, args.sample_rate, args.steps)]
    print(json.dumps(dict(sigma=sigma, epsilon=accountant.get_epsilon(delta=args.delta), coldSeconds=cold, seconds=seconds,
                          evaluations=cold_evaluations, opacusVersion=opacus.__version__)))


if __name__ == "__main__":
    main()
