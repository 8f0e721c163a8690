import { useState } from 'preact/hooks';

/** A connector's logo from the Switchboard origin, or its initial when the image cannot load (e.g. the host's CSP). */
export function Logo({ url, name, big }: { url?: string; name: string; big?: boolean }) {
  const [failed, setFailed] = useState(false);
  return (
    <span class={big ? 'logo big' : 'logo'} aria-hidden="true">
      {url && !failed ? <img src={url} alt="" loading="lazy" referrerpolicy="no-referrer" onError={() => setFailed(true)} /> : <span>{name.slice(0, 1)}</span>}
    </span>
  );
}
