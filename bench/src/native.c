/* The fastest C build of argon2 this bench knows: the reference library's optimised
 * implementation (opt.c), compiled by scripts/bench.sh with -O3 -march=native from the sources
 * that argon2-cffi-bindings vendors (fetched from PyPI at bench time, not kept here).
 *
 *   native-argon2 M_KIB T P N PASSWORD SALT_HEX
 *
 * hashes N times with argon2id and prints {"hash_ms": [...]} on stdout. Like argon2-cffi's
 * hash_secret_raw, every call allocates its own memory (the library has no other API). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argon2.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s M_KIB T P N PASSWORD SALT_HEX\n", argv[0]);
        return 2;
    }
    unsigned long m = strtoul(argv[1], NULL, 10), t = strtoul(argv[2], NULL, 10);
    unsigned long p = strtoul(argv[3], NULL, 10), n = strtoul(argv[4], NULL, 10);
    const char *password = argv[5], *hex = argv[6];
    size_t salt_len = strlen(hex) / 2;
    unsigned char salt[64], out[32];
    if (salt_len == 0 || salt_len > sizeof salt || n == 0) {
        fprintf(stderr, "bad salt or count\n");
        return 2;
    }
    for (size_t i = 0; i < salt_len; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            fprintf(stderr, "bad salt hex\n");
            return 2;
        }
        salt[i] = (unsigned char)byte;
    }
    printf("{\"hash_ms\": [");
    for (unsigned long i = 0; i < n; i++) {
        double start = now_ms();
        int rc = argon2id_hash_raw((uint32_t)t, (uint32_t)m, (uint32_t)p, password, strlen(password), salt,
                                   salt_len, out, sizeof out);
        double elapsed = now_ms() - start;
        if (rc != ARGON2_OK) {
            fprintf(stderr, "argon2id_hash_raw: %s\n", argon2_error_message(rc));
            return 1;
        }
        printf("%s%.4f", i ? ", " : "", elapsed);
    }
    printf("]}\n");
    return 0;
}
