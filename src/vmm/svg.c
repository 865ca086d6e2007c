/* The physical memory map as a picture: one lane per kind of range, addresses on a
 * linear scale, with labels. */
#include <stdio.h>

#include "cli.h"
#include "sim.h"

#define W 1200.0
#define X0 150.0
#define LANE 34.0

static double xpos(uint64_t pa, uint64_t top)
{
	return X0 + (W - X0 - 20.0) * ((double)pa / (double)top);
}

static void rect(FILE *f, uint64_t b, uint64_t e, uint64_t top, int lane, const char *fill, const char *title)
{
	double x = xpos(b, top), w = xpos(e, top) - x;
	if (w < 1.0)
		w = 1.0;
	fprintf(f, "<rect x='%.2f' y='%.1f' width='%.2f' height='%.1f' fill='%s' stroke='#333' stroke-width='0.3'>"
		   "<title>%s [%#llx, %#llx)</title></rect>\n",
		x, 40.0 + lane * LANE, w, LANE - 8.0, fill, title, (unsigned long long)b, (unsigned long long)e);
}

int svg_memory_map(const struct sim *s, const char *path)
{
	const struct plat_config *c = plat_config(s->plat);
	const struct tdx_host *h = &s->host;
	static const char *lanes[] = { "e820", "CMRs", "TDMRs", "reserved", "PAMTs" };
	uint64_t top = 0;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (unsigned i = 0; i < c->nr_e820; i++)
		if (c->e820[i].addr + c->e820[i].size > top)
			top = c->e820[i].addr + c->e820[i].size;
	for (unsigned i = 0; i < h->nr_tdmrs; i++)
		if (h->tdmrs[i].base + h->tdmrs[i].size > top)
			top = h->tdmrs[i].base + h->tdmrs[i].size;
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif' "
		   "font-size='12'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
		W, 60.0 + 5 * LANE + 40.0);
	fprintf(f, "<text x='10' y='22' font-size='15'>tdxemu physical memory map: %.1f GiB address space, "
		   "%u TDMRs</text>\n", (double)top / (double)(1ull << 30), h->nr_tdmrs);
	for (int l = 0; l < 5; l++)
		fprintf(f, "<text x='10' y='%.1f'>%s</text>\n", 40.0 + l * LANE + 18.0, lanes[l]);
	for (unsigned i = 0; i < c->nr_e820; i++)
		rect(f, c->e820[i].addr, c->e820[i].addr + c->e820[i].size, top, 0,
		     c->e820[i].type == E820_RAM ? "#8fd18f" : "#d9d9d9", c->e820[i].type == E820_RAM ? "RAM" : "reserved");
	for (unsigned i = 0; i < h->sysinfo.num_cmrs && i < MAX_CMR; i++)
		if (h->sysinfo.cmr_size[i])
			rect(f, h->sysinfo.cmr_base[i], h->sysinfo.cmr_base[i] + h->sysinfo.cmr_size[i], top, 1, "#7fb3e6",
			     "CMR");
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		const struct tdx_tdmr *t = &h->tdmrs[i];
		rect(f, t->base, t->base + t->size, top, 2, i % 2 ? "#f2c27f" : "#f5d9a8", "TDMR");
		for (unsigned r = 0; r < t->nr_rsvd; r++)
			rect(f, t->base + t->rsvd[r].offset, t->base + t->rsvd[r].offset + t->rsvd[r].size, top, 3,
			     "#e07a7a", "reserved area");
		for (unsigned l = 0; l < 3; l++)
			rect(f, t->pamt_base[l], t->pamt_base[l] + t->pamt_size[l], top, 4, "#9b59b6", "PAMT");
	}
	for (int k = 0; k <= 4; k++) {
		uint64_t pa = top / 4 * (uint64_t)k;
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%.1fG</text>\n", xpos(pa, top),
			60.0 + 5 * LANE + 10.0, (double)pa / (double)(1ull << 30));
	}
	fprintf(f, "</svg>\n");
	return fclose(f) ? -1 : 0;
}
