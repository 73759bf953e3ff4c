#!/usr/bin/env bash
# A few steps of a full DP fine-tune of GPT-2 large (random weights) through the real pipeline:
# Temporal + MinIO, a light worker and a GPU worker of its own, a checkpoint after every step.
# Once a checkpoint is committed and the next step is under way, the GPU worker is SIGKILLed
# (no shutdown, no last heartbeat), a new one is started, and the job must resume from the last
# committed (sharded) checkpoint and finish. See README.md. Not part of the tests.
#
#   bench/large/run.sh
# Environment (defaults in brackets):
#   VEIL_LARGE_BASE          [random:gpt2-large]  any base the fine-tune accepts (random:gpt2 to try the script quickly)
#   VEIL_LARGE_STEPS         [4]      training steps, a checkpoint after each
#   VEIL_LARGE_BATCH         [2]      expected batch size (Poisson) and physical batch
#   VEIL_LARGE_SEQ           [64]     tokens per row
#   VEIL_LARGE_ROWS          [40]     rows of the dataset (10% held out)
#   VEIL_LARGE_HEARTBEAT_S   [300]    the train activity's heartbeat timeout: also how long the retry waits after the kill
#   VEIL_LARGE_MIN_FREE_GIB  [18]     refuse to start with less memory available (MemAvailable)
#   VEIL_CHECKPOINT_SHARD_BYTES       shard size of the checkpoints (the workers' default otherwise)
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE=${VEIL_LARGE_BASE:-random:gpt2-large}
STEPS=${VEIL_LARGE_STEPS:-4}
BATCH=${VEIL_LARGE_BATCH:-2}
SEQ=${VEIL_LARGE_SEQ:-64}
ROWS=${VEIL_LARGE_ROWS:-40}
HEARTBEAT_S=${VEIL_LARGE_HEARTBEAT_S:-300}
MIN_FREE_GIB=${VEIL_LARGE_MIN_FREE_GIB:-18}
RUN=large-$(date +%s)-$$
WORK=${TMPDIR:-/tmp}/veil-$RUN
mkdir -p "$WORK"
# Queues of its own: no other worker on this Temporal server can pick the job up.
export VEIL_TASK_QUEUE=veil-$RUN
veil() { node bin/veil.js "$@"; }
helper() { node --import tsx bench/large/helper.ts "$@"; }
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

free_gib=$(awk '/MemAvailable/ { printf "%d", $2 / 1048576 }' /proc/meminfo)
if (( free_gib < MIN_FREE_GIB )); then
  say "only ${free_gib} GiB available, ${MIN_FREE_GIB} needed (VEIL_LARGE_MIN_FREE_GIB): not started"
  exit 3
fi
veil infra status >/dev/null 2>&1 || veil infra up

LIGHT_PID=''
GPU_PID=''
GUARD_PID=''
job=''
cleanup() {
  # A job left behind by an interrupted run would wait on these queues forever.
  if [[ -n $job && -n ${analyst:-} ]]; then VEIL_TOKEN=$analyst timeout 120 node bin/veil.js jobs cancel "$job" >/dev/null 2>&1 || true; fi
  for pid in $GUARD_PID $GPU_PID $LIGHT_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 2
  for pid in $GPU_PID $LIGHT_PID; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# The peak resident set of a process so far (VmHWM), in GiB.
peak_gib() { awk '/VmHWM/ { printf "%.2f", $2 / 1048576 }' "/proc/$1/status" 2>/dev/null || echo '?'; }

# Waits until a worker polls its queue; fails with its log if it exits first.
wait_polling() {
  until grep -q 'polling' "$2"; do
    kill -0 "$1" 2>/dev/null || { say "worker $1 exited:"; cat "$2"; exit 1; }
    sleep 0.5
  done
}

start_gpu_worker() {
  # node itself, not the veil function: $! must be the worker's own pid (a subshell's would leave it running).
  node bin/veil.js worker --queues veil-gpu >>"$WORK/gpu-worker-$1.log" 2>&1 &
  GPU_PID=$!
  wait_polling "$GPU_PID" "$WORK/gpu-worker-$1.log"
  say "GPU worker $1 started (pid $GPU_PID, log $WORK/gpu-worker-$1.log)"
  # The machine is shared: the worker goes before the machine runs out of memory for the others.
  if [[ -n $GUARD_PID ]]; then kill "$GUARD_PID" 2>/dev/null || true; fi
  ( while kill -0 "$GPU_PID" 2>/dev/null; do
      if (( $(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo) < 1024 )); then
        echo "[guard] under 1 GiB available: GPU worker $GPU_PID killed at $(peak_gib "$GPU_PID") GiB peak" >>"$WORK/guard.log"
        kill -KILL "$GPU_PID"
      fi
      sleep 0.5
    done ) &
  GUARD_PID=$!
}

say "run $RUN: base $BASE, $STEPS steps of batch $BATCH × $SEQ tokens, ${free_gib} GiB available, load $(cut -d' ' -f1-3 /proc/loadavg)"
node bin/veil.js worker --queues veil >"$WORK/light-worker.log" 2>&1 &
LIGHT_PID=$!
wait_polling "$LIGHT_PID" "$WORK/light-worker.log"

token_of() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).token))'; }
owner=$(veil access add "$RUN-owner" --role owner --json | token_of)
analyst=$(veil access add "$RUN-analyst" --role analyst --json | token_of)
helper notes "$WORK/notes.jsonl" "$ROWS"
VEIL_TOKEN=$owner veil datasets add "$RUN" "$WORK/notes.jsonl" >/dev/null
VEIL_TOKEN=$owner veil access grant --dataset "$RUN" --analyst "$RUN-analyst" --epsilon 10 --delta 1e-3 >/dev/null
say "dataset $RUN ($ROWS notes) registered; analyst $RUN-analyst granted ε=10"

start_gpu_worker 1
job=$(VEIL_TOKEN=$analyst helper start "$RUN" "$RUN-analyst" "$RUN" "$BASE" "$ROWS" "$BATCH" "$SEQ" "$STEPS" "$HEARTBEAT_S")
say "fine-tune $job started"

first=$(helper wait-checkpoint "$job" 1 7200)
say "checkpoint step-$first committed: $(helper checkpoints "$job")"
# Into the next step (gradients under way), then the power cut.
sleep "${VEIL_LARGE_KILL_AFTER_S:-20}"
peak1=$(peak_gib "$GPU_PID")
kill -KILL "$GPU_PID"
wait "$GPU_PID" 2>/dev/null || true
say "GPU worker 1 SIGKILLed mid-step (its peak RSS: ${peak1} GiB)"
start_gpu_worker 2
say "train activity retried: $(VEIL_TOKEN=$analyst helper wait-resumed "$job" $(( HEARTBEAT_S + 3600 )))"

set +e
VEIL_TOKEN=$analyst veil jobs watch "$job" --json >"$WORK/result.json"
status=$?
set -e
say "job ended (exit $status), GPU worker 2 peak RSS $(peak_gib "$GPU_PID") GiB: $(cat "$WORK/result.json")"
if [[ -s $WORK/guard.log ]]; then say "$(cat "$WORK/guard.log")"; fi
say "checkpoints (step, shard files, bytes): $(helper checkpoints "$job")"
say "train attempts (attempt, worker pid@host): $(helper train-attempts "$job")"
exit $status
