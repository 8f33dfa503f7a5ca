// The console's shell: sign-in, the navigation and the pages. The editor
// and the operations page load on first use, so the first screen stays small.
import { render } from "preact";
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { signOut, token } from "./api";
import { Campaigns } from "./campaigns";
import { type Route, linkProps, navigate, useRoute } from "./router";
import { SignIn } from "./signin";
import { Busy, ErrorLine } from "./ui";

type Page = ComponentType<{ route: Route }>;

const lazyPages: Record<string, () => Promise<Page>> = {
  editor: () => import("./editor/page").then((m) => m.EditorPage),
  new: () => import("./editor/page").then((m) => m.EditorPage),
  operations: () => import("./operations").then((m) => m.Operations),
};

function Lazy({ route }: { route: Route }) {
  const [page, setPage] = useState<{ key: string; Page: Page } | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setError(null);
    lazyPages[route.page]()
      .then((Page) => setPage({ key: route.page, Page }))
      .catch(() => setError(new Error("This page could not be loaded; reload to try again.")));
  }, [route.page]);
  if (error) return <ErrorLine error={error} />;
  if (!page || page.key !== route.page) return <Busy what="Loading" />;
  return <page.Page key={route.page === "editor" ? route.id : route.page} route={route} />;
}

function App() {
  const [signedIn, setSignedIn] = useState(() => token() !== null);
  const route = useRoute();
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const leave = () => {
    signOut();
    setSignedIn(false);
    navigate({ page: "campaigns" });
  };
  const current = (page: Route["page"]) => (route.page === page ? "page" : undefined);
  return (
    <>
      <header class="top">
        <a class="brand" {...linkProps({ page: "campaigns" })}>
          tombola
        </a>
        <nav aria-label="Main">
          <a {...linkProps({ page: "campaigns" })} aria-current={current("campaigns")}>
            Campaigns
          </a>
          <a {...linkProps({ page: "new" })} aria-current={current("new")}>
            New campaign
          </a>
          <a {...linkProps({ page: "operations" })} aria-current={current("operations")}>
            Operations
          </a>
        </nav>
        <button type="button" class="sign-out" onClick={leave}>
          Sign out
        </button>
      </header>
      <main id="main">
        {route.page === "campaigns" ? <Campaigns /> : <Lazy key={route.page} route={route} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
