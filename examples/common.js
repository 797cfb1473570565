// Shared by the example pages: where Latch is and which public token to use (from /config.js,
// which examples/serve.mjs writes, or from the page's own ?public_token= and ?org=), plus a
// small panel that shows the SDK's session and a log-out button, the SDK client, and the texts
// more than one page shows.
window.latchExample = (function () {
  "use strict";
  var query = new URLSearchParams(location.search);
  var served = window.LATCH_EXAMPLE || {};
  var cfg = {
    publicToken: query.get("public_token") || served.publicToken || "",
    baseUrl: served.baseUrl || "https://localhost",
    orgSlug: query.get("org") || served.orgSlug || "demo",
  };

  // The URL of another example page on this origin, keeping ?public_token= and ?org= when this
  // page was given them (Latch appends stytch_token_type, token and stytch_redirect_type).
  function pageUrl(name, extra) {
    var keep = new URLSearchParams();
    if (query.get("public_token")) keep.set("public_token", query.get("public_token"));
    if (extra) Object.keys(extra).forEach(function (k) { keep.set(k, extra[k]); });
    var qs = keep.toString();
    return location.origin + "/" + name + (qs ? "?" + qs : "");
  }

  function log(line) {
    var el = document.getElementById("log");
    if (el) el.textContent += line + "\n";
    console.log("[example]", line);
  }

  function requireToken() {
    if (cfg.publicToken) return true;
    var el = document.getElementById("problem");
    if (el) {
      el.hidden = false;
      el.textContent = "No public token: start the pages with scripts/examples.sh (or set LATCH_PUBLIC_TOKEN for " +
        "examples/serve.mjs), or add ?public_token=… (latch serve prints it) to this page's URL.";
    }
    return false;
  }

  // Show who is logged in (`describe(session)` returns the text) and a log-out button.
  function sessionPanel(client, describe) {
    var el = document.getElementById("session");
    if (!el) return;
    function render(session) {
      el.innerHTML = "";
      if (!session) {
        el.textContent = "Not logged in.";
        return;
      }
      var text = document.createElement("span");
      text.id = "session-who";
      text.textContent = describe(session);
      var out = document.createElement("button");
      out.id = "logout";
      out.type = "button";
      out.textContent = "Log out";
      out.onclick = function () {
        client.session.revoke().then(
          function () { location.href = location.pathname + (query.get("public_token") ? "?public_token=" + encodeURIComponent(query.get("public_token")) : ""); },
          function (e) { log("revoke failed: " + e.message); },
        );
      };
      el.append(text, " ", out);
    }
    client.session.onChange(render);
    render(client.session.getSync());
  }

  // stytch.mount / mountLogin / mountResetPassword of @stytch/vanilla-js 6.3.0 append the UI's
  // element to `elementId` but hand it its props only when called a second time (the first call
  // renders an empty <div>: see createMountFn in the bundle). So: mount, then give the returned
  // element its props with render(), as the StytchB2B / StytchUI web components take them.
  function mountUI(mountFn, props) {
    var element = mountFn(props);
    var rest = {};
    Object.keys(props).forEach(function (k) { if (k !== "elementId") rest[k] = props[k]; });
    element.render(rest);
    return element;
  }

  // The SDK client (`factory` names stytch.createStytchClient or stytch.createStytchB2BClient)
  // for this page's public token, as window.client (for the browser console and the browser
  // suite). customBaseUrl: the SDK keeps only the host name and calls https://<host>/sdk/v1/… on
  // port 443.
  function createClient(factory) {
    var client = window.stytch[factory](cfg.publicToken, { customBaseUrl: cfg.baseUrl });
    window.client = client;
    return client;
  }

  // The consumer user's first email address, else the session's user_id (for sessionPanel).
  function userEmail(client, session) {
    var user = client.user.getSync();
    return user && user.emails && user.emails[0] ? user.emails[0].email : session.user_id;
  }

  // A failed SDK call, for the headless pages' result line.
  function failure(e) {
    return "Failed: " + (e.error_type || e.name) + ": " + (e.error_message || e.message);
  }

  var callbacks = {
    onEvent: function (e) { log("event " + e.type); },
    onError: function (e) { log("error " + (e.error_type || "") + " " + e.message); },
  };

  return {
    cfg: cfg,
    query: query,
    pageUrl: pageUrl,
    log: log,
    requireToken: requireToken,
    sessionPanel: sessionPanel,
    mountUI: mountUI,
    createClient: createClient,
    userEmail: userEmail,
    failure: failure,
    callbacks: callbacks,
  };
})();
