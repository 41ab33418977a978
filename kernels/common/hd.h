#pragma once
/// \file Host/device portability macros shared by the CPU twins and the CUDA kernels.

#if defined(__CUDACC__)
#define JEVONS_HD __host__ __device__ __forceinline__
#else
#define JEVONS_HD inline
#endif
