/** Files esbuild bundles by loader (console/build.mjs): CSS into app.css, the schema as text. */
declare module '*.css';
declare module '*.graphql' {
  const text: string;
  export default text;
}
