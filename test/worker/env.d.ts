type FrontdoorEnv = import("../../src/env").Env;

declare namespace Cloudflare {
  interface Env extends FrontdoorEnv {}
  interface GlobalProps {
    mainModule: typeof import("../../src/index");
  }
}
