import { z } from 'zod';

// What a Prometheus-compatible server may answer to /api/v1/query, as a schema rather than a cast:
// a vector with null elements, a sample without `value`, or `warnings` that is not a list is a
// telemetry error with a reason (so `on_telemetry_error` applies), never a TypeError.

/** A 400-sub-query answer is ~100 KB; past this the server is not answering a query of ours. */
export const MAX_BODY_BYTES = 16 << 20;

const sample = z.object({
  metric: z.record(z.string(), z.string()),
  value: z.tuple([z.number(), z.string()]),
});

export const apiResponseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.object({ resultType: z.string(), result: z.unknown() }),
    warnings: z.array(z.string()).optional(),
    infos: z.array(z.string()).optional(),
  }),
  z.object({
    status: z.literal('error'),
    errorType: z.string().optional(),
    error: z.string().optional(),
  }),
]);
export type ApiResponse = z.infer<typeof apiResponseSchema>;

export const vectorSchema = z.array(sample);
export type VectorSample = z.infer<typeof sample>;

/** The first thing wrong with a value against a schema, with its path: `data.result[3].value`. */
export function firstProblem(error: z.ZodError, prefix = ''): string {
  const issue = error.issues[0]!;
  let path = prefix;
  for (const step of issue.path)
    path += typeof step === 'number' ? `[${step}]` : path ? `.${String(step)}` : String(step);
  return `${path || 'the answer'}: ${issue.message}`;
}

/**
 * The body as text, refused past `max` bytes (counted after decompression: a gzip bomb stops at
 * the cap, not at the end of memory). `null` when it is too big.
 */
export async function readCapped(res: Response, max = MAX_BODY_BYTES): Promise<string | null> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max && !res.headers.get('content-encoding')) {
    await res.body?.cancel();
    return null;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  return Buffer.concat(parts, total).toString('utf8');
}
