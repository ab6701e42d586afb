/** Whether this browser can draw the WebGL map; without it the page shows the table only. */
export function webglAvailable(): boolean {
  try {
    const c = document.createElement('canvas');
    const gl = c.getContext('webgl2') ?? c.getContext('webgl');
    // Browsers cap live WebGL contexts: release the probe's at once rather than when it is collected.
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
    return !!gl;
  } catch {
    return false;
  }
}
