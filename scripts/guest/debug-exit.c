// SPDX-License-Identifier: GPL-2.0
/*
 * Write one byte to QEMU's isa-debug-exit port (0xf4), which ends QEMU with
 * exit status (value << 1) | 1. The guest's /init uses it to tell the host
 * runner that it reached its end; verdicts travel through the serial logs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
	unsigned long v;

	if (argc != 2) {
		fprintf(stderr, "usage: debug-exit VALUE\n");
		return 2;
	}
	v = strtoul(argv[1], NULL, 0);
	if (v > 0x7f || ioperm(0xf4, 1, 1)) {
		perror("debug-exit");
		return 1;
	}
	outb((unsigned char)v, 0xf4);
	return 1;	/* not reached when QEMU has the device */
}
