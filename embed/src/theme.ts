import type { Theme } from './types';

// The same rules the server applies to the tenant's theme (server/src/tenants/tenants.dto.ts).
const RULES: Record<keyof Theme, RegExp> = {
  mode: /^(?:light|dark|auto)$/,
  accent: /^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/,
  radius: /^(?:0|(?:(?:[12]?\d|3[01])(?:\.\d{1,2})?|32)px|(?:[01](?:\.\d{1,3})?|2(?:\.0{1,3})?)r?em)$/,
  font: /^[^;{}<>\\\u0000-\u001f]{1,200}$/,
};

/** Keeps the valid fields of a theme; an invalid one is reported and left out (the default applies). */
export function cleanTheme(theme: unknown, source: string): Theme {
  const out: Theme = {};
  if (!theme || typeof theme !== 'object') return out;
  for (const [key, value] of Object.entries(theme)) {
    const rule = RULES[key as keyof Theme];
    if (rule && typeof value === 'string' && rule.test(value)) (out as Record<string, string>)[key] = value;
    else console.warn(`Switchboard: ${source}.${key} ${rule ? 'is not valid' : 'is not a theme setting'} and was ignored`, value);
  }
  return out;
}

/** White or near-black, whichever reads better on the accent (WCAG relative luminance). */
export function onAccent(hex: string): string {
  let h = hex.slice(1);
  if (h.length <= 4) h = [...h.slice(0, 3)].map((c) => c + c).join('');
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? '#fff' : '#101828';
}

/** The CSS custom properties of a theme, for the widget's root element. */
export function themeStyle(theme: Theme): Record<string, string> {
  const style: Record<string, string> = {};
  if (theme.accent) {
    style['--sb-accent'] = theme.accent;
    style['--on-accent'] = onAccent(theme.accent);
  }
  if (theme.radius) style['--sb-radius'] = theme.radius;
  if (theme.font) style['--sb-font'] = theme.font;
  return style;
}
