/* stdin_echo: echoes stdin's lines numbered, then the byte and line counts. */
#include <stdio.h>
#include <string.h>

int main(void)
{
	char line[4096];
	unsigned long bytes = 0, lines = 0;
	while (fgets(line, sizeof line, stdin)) {
		size_t n = strlen(line);
		bytes += n;
		if (n && line[n - 1] == '\n')
			lines++;
		printf("%lu: %s", lines, line);
	}
	printf("\nbytes=%lu lines=%lu eof=%d\n", bytes, lines, feof(stdin) != 0);
	return 0;
}
