/* fpu: double math, SSE2 intrinsics, and AVX when the CPU has it; prints
 * only results (the same whichever path ran). */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>

static volatile double seed = 1.25;

__attribute__((target("avx"))) static void axpy_avx(double *y, const double *x, double a, int n)
{
	__m256d va = _mm256_set1_pd(a);
	for (int i = 0; i < n; i += 4)
		_mm256_storeu_pd(y + i, _mm256_add_pd(_mm256_mul_pd(va, _mm256_loadu_pd(x + i)),
						       _mm256_loadu_pd(y + i)));
}

static void axpy_sse(double *y, const double *x, double a, int n)
{
	__m128d va = _mm_set1_pd(a);
	for (int i = 0; i < n; i += 2)
		_mm_storeu_pd(y + i, _mm_add_pd(_mm_mul_pd(va, _mm_loadu_pd(x + i)), _mm_loadu_pd(y + i)));
}

int main(void)
{
	double x[64], y[64], z[64], s = 0;
	double a = seed;
	printf("sqrt(2)=%.17g\n", sqrt(2.0 * a / 1.25));
	printf("sin(1)=%.17g cos(1)=%.17g\n", sin(a - 0.25), cos(a - 0.25));
	printf("exp(1)=%.17g log(10)=%.17g\n", exp(a - 0.25), log(a * 8));
	printf("pow(1.25,7.5)=%.17g atan2=%.17g\n", pow(a, 7.5), atan2(a, -3.0));
	printf("1/3=%.17g fma=%.17g\n", 1.0 / (a * 2.4), fma(a, 3.0, 0.1));
	long double ld = (long double)a / 3;
	printf("x87 1.25/3=%.20Lg\n", ld);
	for (int i = 0; i < 64; i++) {
		x[i] = i * 0.5 + a;
		y[i] = z[i] = 64 - i;
	}
	axpy_sse(y, x, 1.5, 64);
	if (__builtin_cpu_supports("avx"))
		axpy_avx(z, x, 1.5, 64);
	else
		axpy_sse(z, x, 1.5, 64);
	for (int i = 0; i < 64; i++)
		s += y[i] * 3 + z[i];
	printf("axpy sum=%.17g same=%d\n", s, y[17] == z[17] && y[63] == z[63]);
	__m128 f = _mm_sqrt_ps(_mm_set_ps(16.0f, 9.0f, 4.0f, (float)a));
	float o[4];
	_mm_storeu_ps(o, f);
	printf("sqrt_ps=%.9g %.9g %.9g %.9g\n", o[0], o[1], o[2], o[3]);
	__m128i v = _mm_add_epi32(_mm_set_epi32(1, 2, 3, 4), _mm_set1_epi32(40));
	printf("epi32=%d %d\n", _mm_cvtsi128_si32(v), _mm_extract_epi16(v, 6));
	return 0;
}
