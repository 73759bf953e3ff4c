#!/usr/bin/env bash
# A few steps of a DP fine-tune of a large GPT-2 (random weights; full, or DP-LoRA) through the
# real pipeline: Temporal + MinIO, a light worker and a GPU worker of its own, a checkpoint after
# every step. Once a checkpoint is committed and the next step is under way, the GPU worker is
# SIGKILLed (no shutdown, no last heartbeat), a new one is started, and the job must resume from
# the last committed (sharded) checkpoint and finish. Then the registered model is downloaded as
# the analyst and opened with transformers (peft for an adapter), whose logits must be Veil's.
# See README.md. Not part of the tests.
#
#   flock /tmp/veil-bigmem.lock bench/large/run.sh                 # GPT-2 large, full DP
#   VEIL_LARGE_BASE=random:gpt2-xl VEIL_LARGE_LORA_RANK=8 flock /tmp/veil-bigmem.lock bench/large/run.sh
# Environment (defaults in brackets):
#   VEIL_LARGE_BASE          [random:gpt2-large]  any base the fine-tune accepts (random:gpt2 to try the script quickly)
#   VEIL_LARGE_STEPS         [4]      training steps, a checkpoint after each
#   VEIL_LARGE_BATCH         [2]      expected batch size (Poisson)
#   VEIL_LARGE_PHYSICAL_BATCH [batch] rows per micro-batch: a step whose Poisson batch is larger runs several
#   VEIL_LARGE_SEQ           [64]     tokens per row
#   VEIL_LARGE_ROWS          [40]     rows of the dataset (10% held out)
#   VEIL_LARGE_HEARTBEAT_S   [300]    the train activity's heartbeat timeout: also how long the retry waits after the kill
#   VEIL_LARGE_MIN_FREE_GIB  [18]     refuse to start with less memory available (MemAvailable)
#   VEIL_LARGE_KILL_AFTER_S  [20]     how long the step after the first committed checkpoint runs before the kill
#   VEIL_LARGE_LORA_RANK              DP-LoRA adapters of this rank on the frozen base (unset: full fine-tune)
#   VEIL_LARGE_LORA_TARGETS  [attn.c_attn,attn.c_proj]  the projections they sit on
#   VEIL_LARGE_LORA_ADAPTER_ONLY [1]  register the PEFT adapter alone (1) or with the merged weights (0)
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
LORA_RANK=${VEIL_LARGE_LORA_RANK:-}
LORA_TARGETS=${VEIL_LARGE_LORA_TARGETS:-attn.c_attn,attn.c_proj}
ADAPTER_ONLY=${VEIL_LARGE_LORA_ADAPTER_ONLY:-1}
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
  # Gigabytes each for a large model: the downloaded model, and the random bases the workers and
  # the check drew under $TMPDIR/veil/base-models/ (the logs stay).
  rm -rf "$WORK/model"
  if [[ -n $job ]]; then rm -rf "${TMPDIR:-/tmp}/veil/base-models/$job" "${TMPDIR:-/tmp}/veil/base-models/$job-base"; fi
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

if [[ -n $LORA_RANK ]]; then
  kind="DP-LoRA rank $LORA_RANK on $LORA_TARGETS$([[ $ADAPTER_ONLY == 1 ]] && echo ', adapter only')"
else
  kind='full DP'
fi
say "run $RUN: base $BASE, $kind, $STEPS steps of batch $BATCH × $SEQ tokens, ${free_gib} GiB available, load $(cut -d' ' -f1-3 /proc/loadavg)"
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
job=$(VEIL_TOKEN=$analyst helper start "$RUN" "$RUN-analyst" "$RUN" "$BASE" "$ROWS" "$BATCH" "$SEQ" "$STEPS" "$HEARTBEAT_S" $([[ -n $LORA_RANK ]] && echo "$LORA_RANK $LORA_TARGETS $ADAPTER_ONLY"))
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
resumed=$(VEIL_TOKEN=$analyst helper wait-resumed "$job" $(( HEARTBEAT_S + 3600 )))
say "train activity retried: $resumed"

set +e
VEIL_TOKEN=$analyst veil jobs watch "$job" --json >"$WORK/result.json"
status=$?
set -e
say "job ended (exit $status), GPU worker 2 peak RSS $(peak_gib "$GPU_PID") GiB, light worker $(peak_gib "$LIGHT_PID") GiB: $(cat "$WORK/result.json")"
if [[ -s $WORK/guard.log ]]; then say "$(cat "$WORK/guard.log")"; fi
say "checkpoints (step, shard files, bytes): $(helper checkpoints "$job")"
say "train attempts (attempt, worker pid@host): $(helper train-attempts "$job")"
(( status == 0 )) || exit $status
# The GPU worker's memory goes back before the check loads the model twice (Veil, then torch).
kill -TERM "$GPU_PID" "$GUARD_PID" 2>/dev/null || true
wait "$GPU_PID" 2>/dev/null || true
VEIL_TOKEN=$analyst veil models download "$job" "$WORK/model" --json >"$WORK/download.json"
say "registered model downloaded as the analyst: $(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(JSON.stringify(d.files.map((f) => [f.path, f.size])))' "$WORK/download.json")"
set +e
node --import tsx bench/large/check-logits.ts "$job" "$WORK/model" >"$WORK/check.json"
check=$?
set -e
say "logits, Veil vs transformers (exit $check): $(cat "$WORK/check.json")"
exit $check
