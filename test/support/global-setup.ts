// Placeholder: replaced by the Temporal test-server setup.
export default async function globalSetup(): Promise<void> {}
