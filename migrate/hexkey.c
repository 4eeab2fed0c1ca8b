/* hexkey.c - link keys in hex (see hexkey.h). */
#include <string.h>

#include "hexkey.h"

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hexkey_parse(const char *s, size_t len, uint8_t out[HEXKEY_LEN])
{
	uint8_t key[HEXKEY_LEN];
	int i, hi, lo;

	if (len != 2 * HEXKEY_LEN)
		return -1;
	for (i = 0; i < HEXKEY_LEN; i++) {
		if ((hi = hex_digit(s[2 * i])) < 0 || (lo = hex_digit(s[2 * i + 1])) < 0)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, key, sizeof key);
	/* The caller's copy is the one that lives; this one may be secret. */
	for (i = 0; i < HEXKEY_LEN; i++)
		((volatile uint8_t *)key)[i] = 0;
	return 0;
}

void
hexkey_format(const uint8_t key[HEXKEY_LEN], char out[2 * HEXKEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < HEXKEY_LEN; i++) {
		out[2 * i] = hex[key[i] >> 4];
		out[2 * i + 1] = hex[key[i] & 15];
	}
	out[2 * HEXKEY_LEN] = '\0';
}
