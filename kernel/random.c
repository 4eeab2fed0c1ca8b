/* random.c - seeding and drawing the node's random bytes (see random.h). */
#include <stdio.h>
#include <string.h>

#include <bearssl/bearssl.h>

#include "cpu.h"
#include "mm.h"
#include "random.h"

#define RANDOM_JITTER_SAMPLES 8192
/* Larger than a last-level cache, so the walk's loads miss now and then
 * and their timing varies on bare metal too. */
#define RANDOM_WALK_BYTES (16u << 20)
/* Fewer distinct TSC deltas than this among the samples: the timer is
 * too coarse or too regular to trust (a warning, not a stop). */
#define RANDOM_MIN_DISTINCT 64

static br_hmac_drbg_context drbg;

int random_have_rdrand(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return (r[2] >> 30) & 1;
}

int random_rdrand64(uint64_t *v)
{
	for (int i = 0; i < 10; i++) { /* Intel's DRNG guide: retry up to 10 times */
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return 0;
	}
	return -1;
}

static int have_rdseed(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] < 7)
		return 0;
	cpuid(7, 0, r);
	return (r[1] >> 18) & 1;
}

static int rdseed64(uint64_t *v)
{
	for (int i = 0; i < 100; i++) { /* RDSEED runs dry more often than RDRAND */
		unsigned char ok;
		__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return 0;
		cpu_pause();
	}
	return -1;
}

/* TSC deltas around a memory walk: all of them hashed, so the few bits of
 * real variation in each add up instead of being judged one by one.
 * Returns how many distinct deltas (their low 12 bits) there were. */
static int jitter(br_sha256_context *sc)
{
	static volatile uint8_t small[64 * 1024];
	static uint8_t seen[4096 / 8];
	/* Frames borrowed for the walk, not the heap: newlib never gives
	 * back what malloc took, and these are returned at once. */
	uint64_t pa = pmm_alloc(RANDOM_WALK_BYTES / PAGE_SIZE);
	volatile uint8_t *walk_buf = pa ? phys_to_virt(pa) : small;
	uint32_t size = pa ? RANDOM_WALK_BYTES : sizeof small, walk = 0;
	uint64_t prev = rdtsc(), now;
	int distinct = 0;

	memset(seen, 0, sizeof seen);
	for (int i = 0; i < RANDOM_JITTER_SAMPLES; i++) {
		for (int k = 0; k < 16; k++) {
			walk = walk * 1103515245u + 12345u + (uint32_t)prev;
			walk_buf[walk % size] += (uint8_t)k;
		}
		now = rdtsc();
		uint32_t d = (uint32_t)(now - prev);
		br_sha256_update(sc, &d, sizeof d);
		if (!(seen[(d & 4095) / 8] & (1u << (d & 7)))) {
			seen[(d & 4095) / 8] |= (uint8_t)(1u << (d & 7));
			distinct++;
		}
		prev = now;
	}
	if (pa)
		pmm_free(pa, RANDOM_WALK_BYTES / PAGE_SIZE);
	return distinct;
}

void random_init(void)
{
	br_sha256_context sc;
	uint8_t seed[32];
	uint64_t v;
	int hw = 0;

	br_sha256_init(&sc);
	if (have_rdseed())
		for (int i = 0; i < 8; i++)
			if (rdseed64(&v) == 0)
				br_sha256_update(&sc, &v, sizeof v), hw++;
	if (random_have_rdrand())
		for (int i = 0; i < 8; i++)
			if (random_rdrand64(&v) == 0)
				br_sha256_update(&sc, &v, sizeof v), hw++;
	int distinct = jitter(&sc);
	br_sha256_out(&sc, seed);
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, sizeof seed);
	memset(seed, 0, sizeof seed);
	v = 0;
	printf("random: seeded from %s%d TSC jitter samples (%d distinct)\n",
	       hw ? "the CPU's generator and " : "", RANDOM_JITTER_SAMPLES, distinct);
	if (!hw && distinct < RANDOM_MIN_DISTINCT)
		printf("random: WARNING: no CPU generator and the timing jitter looks poor: "
		       "this node's keys may be guessable (docs/security.md)\n");
}

void random_add(const void *data, size_t len)
{
	br_hmac_drbg_update(&drbg, data, len);
}

void random_bytes(void *out, size_t len)
{
	uint64_t t = rdtsc(), v;

	/* Each draw also takes the moment it happens, and the CPU's
	 * generator where there is one. */
	br_hmac_drbg_update(&drbg, &t, sizeof t);
	if (random_have_rdrand() && random_rdrand64(&v) == 0)
		br_hmac_drbg_update(&drbg, &v, sizeof v);
	br_hmac_drbg_generate(&drbg, out, len);
}
