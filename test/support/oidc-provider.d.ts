/** oidc-provider ships no type declarations; the tests use it through its documented API. */
declare module 'oidc-provider' {
  const Provider: any;
  export default Provider;
}
