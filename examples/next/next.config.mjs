import { fileURLToPath } from 'node:url';

/** @type {import('next').NextConfig} */
const nextConfig = {
  // In this repository sessionkit comes from `file:../..` (the built checkout), which Turbopack only
  // follows inside its root. In your own app, with sessionkit installed from the registry, delete this.
  turbopack: { root: fileURLToPath(new URL('../..', import.meta.url)) },
};
export default nextConfig;
