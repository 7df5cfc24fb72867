import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cachedDir } from './cache.js';

/**
 * bigread: the reads issue 11 found the module logging raw (before the kernel validated them):
 *   pread(fd, b, 1, 1e17)          past the end: returns 0
 *   read(fd, b, SIZE_MAX)          fails with EFAULT before anything is read
 *   pread(fd, b, 4096, 8192)       a normal read (the positive control)
 *   pread(fd, b, 65536, size - 10) clamped by the kernel to the last 10 bytes
 * It prints each call's result so the test can compare the log with what really happened.
 */
const BIGREAD_C = String.raw`
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char buf[65536];

int main(int argc, char **argv)
{
	struct stat st;
	long r;
	int fd;

	if (argc != 2 || (fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
		perror("bigread");
		return 1;
	}
	r = pread(fd, buf, 1, 100000000000000000LL);
	printf("pread-far %ld\n", r);
	r = syscall(SYS_read, fd, buf, (size_t)SIZE_MAX);
	printf("read-huge %ld %d\n", r, r < 0 ? errno : 0);
	r = pread(fd, buf, 4096, 8192);
	printf("pread-normal %ld\n", r);
	r = pread(fd, buf, sizeof(buf), st.st_size - 10);
	printf("pread-tail %ld %lld\n", r, (long long)st.st_size - 10);
	return 0;
}
`;

/** Static test programs for the guest, built with the host's gcc (cached by source). */
export async function buildBigread(): Promise<string> {
  const dir = await cachedDir('guest-bigread', { v: 1, source: BIGREAD_C }, async (tmp) => {
    writeFileSync(join(tmp, 'bigread.c'), BIGREAD_C);
    await execa('gcc', ['-static', '-O2', '-Wall', '-o', join(tmp, 'bigread'), join(tmp, 'bigread.c')]);
  });
  return join(dir, 'bigread');
}
