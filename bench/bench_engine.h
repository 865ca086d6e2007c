/* The engine section of tdxemu-bench (engine.c). */
#ifndef BENCH_ENGINE_H
#define BENCH_ENGINE_H

/* Run the bench guest as a TD and as a plain guest `runs` times each, and the demo TD;
 * print figures, ratios and PASS/MISS. 0 (also when skipped: no engine), 1 on a failure. */
int bench_engine(int runs);

#endif
