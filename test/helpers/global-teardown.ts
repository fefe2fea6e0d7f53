export default async function globalTeardown(): Promise<void> {
  const { dropTemplate } = await import('./test-db');
  await dropTemplate();
}
