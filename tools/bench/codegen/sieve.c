/* Sieve of Eratosthenes below 1,000,000, repeated 1000 times. Peer of sieve.blood. */
#include <stdio.h>

#define N 1000000
static unsigned char flags[N];

static long sieve(unsigned char *f) {
    for (long i = 0; i < N; i++) f[i] = 1;
    f[0] = 0;
    f[1] = 0;
    for (long p = 2; p * p < N; p++)
        if (f[p] == 1)
            for (long m = p * p; m < N; m += p) f[m] = 0;
    long count = 0;
    for (long k = 0; k < N; k++) count += f[k];
    return count;
}

int main(void) {
    long total = 0;
    for (int r = 0; r < 1000; r++) total += sieve(flags);
    printf("primes below 1000000: %ld (x1000 = %ld)\n", total / 1000, total);
    return 0;
}
