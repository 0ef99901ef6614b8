/* Nested-loop integer kernel. Peer of nested_loops.blood. */
#include <stdint.h>
#include <stdio.h>

static uint64_t kernel(uint64_t n) {
    uint64_t x = 1, hits = 0;
    for (uint64_t i = 0; i < n; i++)
        for (uint64_t j = 0; j < n; j++) {
            x = x * 6364136223846793005ULL + (i ^ j);
            if (x >> 61 == 3) hits++;
        }
    return hits ^ (x >> 32);
}

int main(void) {
    printf("kernel(20000) = %llu\n", (unsigned long long)kernel(20000));
    return 0;
}
