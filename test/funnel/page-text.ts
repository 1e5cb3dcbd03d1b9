/** Reading the report page back as a person would: its text, one section, the chart's bars. */

function decode(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** The visible text, tags dropped and white space collapsed (cells and words one space apart). */
export function textOf(html: string): string {
  return decode(html.replace(/<style>[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** The element with this id, up to its tag's first closing tag (sections do not nest on the page). */
export function section(html: string, id: string): string {
  const start = new RegExp(`<(\\w+)[^>]*\\sid="${id}"`).exec(html);
  if (!start) throw new Error(`no element with id ${id}`);
  const end = html.indexOf(`</${start[1]}>`, start.index);
  return html.slice(start.index, end);
}

/** Each bar of the chart: its accessible description and its drawn width (Vega draws rects as paths). */
export function bars(html: string): { label: string; width: number }[] {
  return [...html.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="rect mark" d="M[-\d.]+,[-\d.]+h([\d.]+)/g)].map(
    (m) => ({ label: decode(m[1]!), width: Number(m[2]) }),
  );
}
