/* Prime counting by trial division below 3,000,000. Peer of primes_trial.blood. */
#include <stdint.h>
#include <stdio.h>

static int is_prime(uint64_t n) {
    if (n < 2) return 0;
    if (n % 2 == 0) return n == 2;
    for (uint64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0) return 0;
    return 1;
}

int main(void) {
    int count = 0;
    for (uint64_t n = 0; n < 3000000; n++) count += is_prime(n);
    printf("primes below 3000000: %d\n", count);
    return 0;
}
