// A bounded load for a local HTTP service: REQUESTS GETs, CONCURRENCY at a time, each awaited.
//   node load.ts http://127.0.0.1:PORT 300 8        prints "300 requests, N bytes"

export async function load(url: string, requests: number, concurrency: number): Promise<{ requests: number; bytes: number }> {
  let next = 0;
  let done = 0;
  let bytes = 0;
  const client = async (): Promise<void> => {
    while (next < requests) {
      const res = await fetch(`${url}/page/${next++}`);
      bytes += (await res.text()).length;
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, client));
  return { requests: done, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [url, requests = '300', concurrency = '8'] = process.argv.slice(2);
  if (!url) {
    console.error('usage: load.ts URL [REQUESTS] [CONCURRENCY]');
    process.exit(2);
  }
  const r = await load(url, Number(requests), Number(concurrency));
  console.log(`${r.requests} requests, ${r.bytes} bytes`);
}
