// CFuzz: libFuzzer's driver entry (compiler-rt, LLVM 11+). SwiftPM renames an executable's main, so the fuzz
// executable calls the driver from its own entry point instead of using libFuzzer's main. Only referenced in
// builds with -sanitize=fuzzer -DLIBFUZZER (scripts/fuzz.sh).
#ifndef PUS_CFUZZ_SHIM_H
#define PUS_CFUZZ_SHIM_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
