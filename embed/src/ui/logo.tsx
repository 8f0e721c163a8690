import { useState } from 'preact/hooks';

/** White or black letters, whichever contrasts more with the brand colour: at least 4.58:1 (WCAG relative luminance). */
function inkOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const l = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#fff' : '#000';
}

/**
 * A connector's logo: a monogram drawn here (no image to fetch or decode, which for 150+ cards cost
 * more than the rest of the list), else the image from the Switchboard origin, or the initial when
 * it cannot load (e.g. the host's CSP).
 */
export function Logo({ url, monogram, name, big }: { url?: string; monogram?: { color: string; text: string }; name: string; big?: boolean }) {
  const [failed, setFailed] = useState(false);
  if (monogram) {
    return (
      <span class={big ? 'logo mono big' : 'logo mono'} aria-hidden="true" style={{ background: monogram.color, color: inkOn(monogram.color) }}>
        <span>{monogram.text}</span>
      </span>
    );
  }
  return (
    <span class={big ? 'logo big' : 'logo'} aria-hidden="true">
      {url && !failed ? <img src={url} alt="" loading="lazy" referrerpolicy="no-referrer" onError={() => setFailed(true)} /> : <span>{name.slice(0, 1)}</span>}
    </span>
  );
}
