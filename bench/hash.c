/* hash - print a yescrypt hash of argv[1] (Debian 12's default method), for
 * the pam_unix baseline in make bench.   hash PASSWORD */
#include <crypt.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	const char *salt, *h;

	if (argc != 2 || (salt = crypt_gensalt("$y$", 0, NULL, 0)) == NULL ||
	    (h = crypt(argv[1], salt)) == NULL || h[0] == '*')
		return 1;
	printf("%s\n", h);
	return 0;
}
