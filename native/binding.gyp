{
  "targets": [
    {
      "target_name": "spurlab",
      "sources": [
        "addon.cc",
        "addon_nn.cc",
        "kernels/batchnorm.cc",
        "kernels/batchnorm_isa.cc",
        "kernels/conv.cc",
        "kernels/conv_avx2.cc",
        "kernels/conv_avx512.cc",
        "kernels/conv_generic.cc",
        "kernels/conv_rows.cc",
        "kernels/conv_winograd.cc",
        "kernels/cpu.cc",
        "kernels/elementwise.cc",
        "kernels/gemm.cc",
        "kernels/gemm_avx2.cc",
        "kernels/gemm_avx512.cc",
        "kernels/gemm_generic.cc",
        "kernels/lissa_isa.cc",
        "kernels/memory.cc",
        "kernels/optim.cc",
        "kernels/pool.cc",
        "kernels/reduce.cc",
        "kernels/softmax.cc",
        "kernels/threadpool.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-O2"],
      "cflags": ["-O3", "-fno-math-errno", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "ldflags": ["-pthread"]
    }
  ]
}
