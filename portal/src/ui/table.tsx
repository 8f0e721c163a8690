import type { ComponentChildren } from 'preact';

/** A titled card whose content (a table, a list) runs to its edges; `aside` goes next to the title (a count, a filter). */
export function FlushCard({ titleId, title, aside, children }: { titleId: string; title: ComponentChildren; aside?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="card card-flush" aria-labelledby={titleId}>
      <div class="card-header">
        <h2 id={titleId} class="card-title">
          {title}
        </h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

/** A table in its scrolling wrapper: one header row of column names (or of what names them), then `children` as the rows of its body. */
export function Table({ columns, caption, children }: { columns: ComponentChildren[]; caption?: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class="table">
        {caption}
        <thead>
          <tr>
            {columns.map((column, i) => (
              <th key={i} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
