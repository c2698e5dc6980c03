#!/usr/bin/env bash
# The GPU record of docs/performance.md: `make bench`'s grids, the likelihood pass per
# layout, scaling with the population, tests/test_cuda.py, and one default run, on a
# CUDA machine whose python has torch (the project's other requirements, e.g.
# transformers>=5.24, may come as wheels in .whl/, installed ahead of the machine's own).
# The model is SmolLM2-135M's shape with random weights
# (docs/tools/gpu_model.py): timings do not depend on the weights' values.
# Usage: OUT=folder bash docs/tools/gpu_bench.sh   (each step is bounded; one failing
# step does not stop the others)
set -u
OUT=${OUT:-outputs/gpu_bench}
mkdir -p "$OUT" /tmp/gpu_json
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 MLFLOW_ENABLE_TELEMETRY=false DO_NOT_TRACK=1
LOG="$OUT/gpu_bench.log"
step() {  # step SECONDS NAME COMMAND...: run, log, keep going
  local limit=$1 name=$2; shift 2
  echo "=== $name: $*" | tee -a "$LOG"
  local start=$SECONDS
  timeout "$limit" "$@" 2>&1 | grep -v -E "it/s\]|Loading weights|Writing model" | tee -a "$LOG"
  echo "=== $name: exit ${PIPESTATUS[0]} after $((SECONDS - start)) s" | tee -a "$LOG"
}
step 30 machine bash -c "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; python3 -c 'import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.get_device_name())'"
step 90 model python3 docs/tools/gpu_model.py build .gpu/smollm2-shape /tmp/smol
B="python3 -m evosweep.bench --model /tmp/smol/model.yaml --device cuda"
step 180 bench-fp32 $B --json /tmp/gpu_json/bench_fp32.json
step 180 bench-bf16 $B --dtype bfloat16 --json /tmp/gpu_json/bench_bf16.json
step 60 likelihood-fp32 $B --likelihood --layers all 8 4 --population 64 --prompts 4 --json /tmp/gpu_json/likelihood_fp32.json
step 60 likelihood-bf16 $B --likelihood --dtype bfloat16 --layers all 8 4 --population 64 --prompts 4 --json /tmp/gpu_json/likelihood_bf16.json
step 60 likelihood-bf16-P512 $B --likelihood --dtype bfloat16 --layers all 8 --population 512 --prompts 4 --batch-size 2048 --json /tmp/gpu_json/likelihood_bf16_p512.json
step 100 scaling-bf16 $B --dtype bfloat16 --scaling 8 32 128 512 --prompts 8 --batch-size 1024 --repeats 2 --json /tmp/gpu_json/scaling_bf16.json
step 120 test-cuda python3 -m pytest tests/test_cuda.py -q -p no:cacheprovider
step 150 default-run python3 -m evosweep model.name_or_path=/tmp/smol model.gguf_file=null device=cuda tracking=none hydra.run.dir=/tmp/gpu_run
tar -C /tmp -czf "$OUT/gpu_json.tgz" gpu_json
