/** The few icons the widget needs, inline (no requests, no font). */
const svg = (d: string, size = 18) => (
  <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
    <path d={d} />
  </svg>
);

export const CloseIcon = () => svg('M18 6 6 18M6 6l12 12');
export const BackIcon = () => svg('M15 18l-6-6 6-6', 16);
export const SearchIcon = () => svg('M21 21l-4.3-4.3M11 18a7 7 0 1 1 0-14 7 7 0 0 1 0 14z', 16);
export const LockIcon = () => svg('M7 11V7a5 5 0 0 1 10 0v4M5 11h14v10H5z', 13);
export const WarnIcon = () => svg('M12 9v4m0 4h.01M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z', 18);
