# Sourced by the GPU bench scripts: `cuda_env DIR` installs the CUDA 13.0 build toolchain from pip into
# DIR (once), links the unversioned library names, builds a link-time stub of the driver library, and
# exports PATH, CUDA_HOME, CUDA_COMPUTE_CAP and LIBRARY_PATH for `cargo build --features cuda`.
cuda_env() {
    local dir=$1
    # Pinned to CUDA 13.0: the GPU machine's driver is 13.0; PTX from a newer nvcc may not load.
    [ -x "$dir/nvidia/cu13/bin/nvcc" ] || python3 -m pip install --target "$dir" nvidia-cuda-nvcc==13.0.88 \
        nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 \
        nvidia-cuda-nvrtc==13.0.88 "nvidia-cublas==13.1.*" nvidia-curand
    local cu="$dir/nvidia/cu13"
    (cd "$cu/lib" && for l in cudart cublas cublasLt nvrtc; do
        [ -e "lib$l.so" ] || ln -s "$(ls lib$l.so.13* | head -1)" "lib$l.so"; done
     [ -e libcurand.so ] || ln -s "$(ls libcurand.so.10* | head -1)" libcurand.so)
    # Link-time stub of the driver library: every cu* entry point of cuda.h (after its _v2 macros),
    # soname libcuda.so.1 so the real driver library is loaded on the GPU machine.
    if [ ! -e "$cu/lib/libcuda.so" ]; then
        gcc -E -I"$cu/include" "$cu/include/cuda.h" | grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' \
            | tr -d '( \t' | sort -u | sed 's/.*/void &(void) {}/' > /tmp/cuda_stub.c
        gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$cu/lib/libcuda.so" /tmp/cuda_stub.c
    fi
    export PATH="$cu/bin:$PATH" CUDA_HOME="$cu" CUDA_COMPUTE_CAP=90 LIBRARY_PATH="$cu/lib"
}
