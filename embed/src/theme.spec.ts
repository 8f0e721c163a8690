import { describe, expect, it } from 'vitest';
import { relativeTime, setMessages, t, when } from './i18n';
import { cleanTheme, onAccent, themeStyle } from './theme';
import { validate } from './ui/settings-form';

describe('theme', () => {
  it('keeps valid fields, drops invalid or unknown ones', () => {
    const warn = console.warn;
    const warned: unknown[] = [];
    console.warn = (...args: unknown[]) => warned.push(args[0]);
    try {
      expect(cleanTheme({ mode: 'dark', accent: '#0E7490', radius: '12px', font: 'Inter, sans-serif' }, 'theme')).toEqual({
        mode: 'dark',
        accent: '#0E7490',
        radius: '12px',
        font: 'Inter, sans-serif',
      });
      expect(cleanTheme({ mode: 'neon', accent: 'red', radius: '40px', font: 'x;y', background: '#fff' }, 'theme')).toEqual({});
      expect(warned).toHaveLength(5);
      expect(cleanTheme(null, 'theme')).toEqual({});
    } finally {
      console.warn = warn;
    }
  });

  it('picks readable text on the accent and maps the theme to custom properties', () => {
    expect(onAccent('#4f46e5')).toBe('#fff');
    expect(onAccent('#facc15')).toBe('#101828');
    expect(onAccent('#fff')).toBe('#101828');
    expect(themeStyle({ accent: '#000', radius: '4px', font: 'Georgia' })).toEqual({ '--sb-accent': '#000', '--on-accent': '#fff', '--sb-radius': '4px', '--sb-font': 'Georgia' });
  });
});

describe('strings', () => {
  it('fills placeholders, takes overrides for translation, and says times in words', () => {
    expect(t('connect', { name: 'Slack' })).toBe('Connect Slack');
    setMessages({ connect: '{name} verbinden' });
    expect(t('connect', { name: 'Slack' })).toBe('Slack verbinden');
    setMessages();
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(relativeTime('2026-01-01T11:59:50Z', now)).toBe('just now');
    expect(relativeTime('2026-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(relativeTime('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2026-01-01T12:30:00Z', now)).toBe('in 30 min');
  });

  it('says when something happened with its date once it is older than an hour', () => {
    // Local times, so the day boundaries are the reader's.
    const now = new Date(2026, 11, 7, 15, 0).getTime();
    const at = (...parts: number[]) => new Date(...(parts as [number, number, number, number, number])).toISOString();
    expect(when(at(2026, 11, 7, 14, 55), now)).toBe('5 min ago');
    expect(when(at(2026, 11, 7, 9, 30), now)).toMatch(/^Today at 9:30\sAM$/);
    expect(when(at(2026, 11, 6, 23, 10), now)).toMatch(/^Yesterday at 11:10\sPM$/);
    expect(when(at(2026, 11, 3, 16, 4), now)).toMatch(/^Dec 3 at 4:04\sPM$/);
    expect(when(at(2025, 6, 14, 8, 0), now)).toMatch(/^Jul 14, 2025 at 8:00\sAM$/);
  });
});

describe('settings validation', () => {
  const inputs = {
    channel: { type: 'string' as const, title: 'Channel', required: true },
    amount: { type: 'integer' as const, title: 'Amount', minimum: 1, maximum: 10 },
    code: { type: 'string' as const, title: 'Code', pattern: '^[A-Z]{3}$' },
    tags: { type: 'array' as const, title: 'Tags', maxItems: 2 },
    mode: { type: 'string' as const, title: 'Mode', required: true, default: 'a' },
  };

  it('names each problem in words, and accepts what is fine', () => {
    expect(validate(inputs, { amount: '2.5', code: 'abc', tags: ['a', 'b', 'c'] })).toEqual({
      channel: 'Channel is required.',
      amount: 'Amount must be a whole number.',
      code: 'Code is not in the expected format.',
      tags: 'Choose at most 2 for Tags.',
    });
    expect(validate(inputs, { channel: 'C1', amount: '11' })).toEqual({ amount: 'Amount must be at most 10.' });
    expect(validate(inputs, { channel: 'C1', amount: 3, code: 'ABC', tags: ['x'] })).toEqual({});
  });
});
