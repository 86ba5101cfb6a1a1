{
  "targets": [
    {
      "target_name": "course_native",
      "sources": [
        "src/addon.cc",
        "src/blas.cc",
        "src/elementwise.cc",
        "src/reduce.cc",
        "src/layout.cc",
        "src/fused.cc",
        "src/attention.cc",
        "src/block.cc",
        "src/parallel.cc"
      ],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-trapping-math", "-fno-math-errno", "-march=native"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O0"],
      "libraries": ["-ldl", "-lpthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
