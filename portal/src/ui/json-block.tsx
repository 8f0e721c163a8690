/** A JSON value, pretty-printed in a scrollable, focusable block (so keyboard users can scroll it). */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  const text = value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
  return (
    <pre class="json-block" tabIndex={0} aria-label={label}>
      <code>{text}</code>
    </pre>
  );
}
