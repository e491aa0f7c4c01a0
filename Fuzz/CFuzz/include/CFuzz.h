#ifndef CFUZZ_H
#define CFUZZ_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt FuzzerDriver.cpp). SwiftPM renames an
/// executable's main to `<module>_main`, so each fuzz target's main.swift
/// calls this instead of relying on libFuzzer's own main().
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
