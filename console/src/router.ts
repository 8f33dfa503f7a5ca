// Paths under /console, kept in the address bar with the History API so a
// deep link (a campaign's editor) can be bookmarked and reloaded.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";

export type Route =
  | { page: "campaigns" }
  | { page: "editor"; id: string }
  | { page: "new" }
  | { page: "operations" };

export function parse(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "campaigns" && parts[1]) return { page: "editor", id: parts[1] };
  if (parts[0] === "new") return { page: "new" };
  if (parts[0] === "operations") return { page: "operations" };
  return { page: "campaigns" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "editor":
      return `${BASE}/campaigns/${encodeURIComponent(route.id)}`;
    case "new":
      return `${BASE}/new`;
    case "operations":
      return `${BASE}/operations`;
    default:
      return `${BASE}/`;
  }
}

/** Leaving a page may be refused (unsaved changes); the page that can refuse registers here. */
let guard: (() => boolean) | null = null;
export function setLeaveGuard(next: (() => boolean) | null): void {
  guard = next;
}

export function navigate(route: Route): void {
  if (guard && !guard()) return;
  history.pushState(null, "", href(route));
  dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parse(location.pathname));
    addEventListener("popstate", update);
    return () => removeEventListener("popstate", update);
  }, []);
  return route;
}

/** An anchor that navigates in place (and still opens in a new tab when asked). */
export function linkProps(route: Route) {
  return {
    href: href(route),
    onClick: (event: MouseEvent) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      navigate(route);
    },
  };
}
