/* libFuzzer target for the slot model's reader (src/model/slots-file.c): any byte string
 * must be refused with a negative errno or accepted as a model whose weights are all
 * finite, bounded and in ascending index order, and which scores features without a
 * memory error. Build and run with tests/model/fuzz-slots-file.sh. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "model/slots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pml_slots_model *m = NULL;
	unsigned char *buf = malloc(size ? size : 1);
	uint32_t feats[4] = {0, 1, 77, PML_SLOTS_MAX_WEIGHTS - 1};

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* the checksum stops almost every mutation at the door: for half the inputs make it
	 * right, so that the checks behind it are explored too */
	if (size >= 8 && (data[0] ^ data[size - 1]) & 1) {
		uint32_t crc = (uint32_t)crc32(crc32(0, Z_NULL, 0), buf, (uInt)(size - 4));

		memcpy(buf + size - 4, &crc, 4);
	}
	if (pml_slots_model_parse(buf, size, "fuzz", (data[0] & 2) ? "6.1.0-56-amd64" : NULL,
				  &m) == 0) {
		float p;

		if (!(m->threshold > 0 && m->threshold < 1))
			abort();
		for (uint32_t i = 0; i < m->n; i++)
			if (!isfinite(m->w[i]) || m->idx[i] >= PML_SLOTS_MAX_WEIGHTS ||
			    (i && m->idx[i] <= m->idx[i - 1]))
				abort();
		p = pml_slots_score(m, feats, 4);
		if (!(p >= 0 && p <= 1))
			abort();
		pml_slots_model_free(m);
	}
	free(buf);
	return 0;
}
