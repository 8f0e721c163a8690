export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg class="logo" viewBox="0 0 32 32" width={size} height={size} aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path d="M9 11h14M9 16h9M9 21h14" stroke="#fff" stroke-width="2.5" stroke-linecap="round" />
      <circle cx="22" cy="16" r="2.5" fill="#fff" />
    </svg>
  );
}
