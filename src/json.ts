/** JSON.parse, with undefined for what is not JSON (zod then says what is wrong). */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
