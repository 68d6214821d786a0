import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, type ReactNode, Suspense, useState } from "react";
import { BrowserRouter, Navigate, Outlet, Route, Routes, useLocation } from "react-router";

import { ApiError } from "./api/errors";
import { canOpen, homeScreen, type Screen } from "./auth/permissions";
import { SessionProvider, useSession } from "./auth/SessionContext";
import type { AppConfig } from "./config";
import { Loading } from "./layout/Loading";
import { Shell } from "./layout/Shell";
import { ConnectScreen } from "./screens/connect/ConnectScreen";
import { cssVariables, theme } from "./theme";

// Each screen is its own chunk: a till tablet never loads the charts.
const OverviewScreen = lazy(() => import("./screens/overview/OverviewScreen"));
const TillScreen = lazy(() => import("./screens/till/TillScreen"));
const MembersScreen = lazy(() => import("./screens/members/MembersScreen"));
const MemberPage = lazy(() => import("./screens/members/MemberPage"));
const ProgramScreen = lazy(() => import("./screens/program/ProgramScreen"));
const RewardsScreen = lazy(() => import("./screens/rewards/RewardsScreen"));
const NotificationsScreen = lazy(() => import("./screens/notifications/NotificationsScreen"));
const GiftCardsScreen = lazy(() => import("./screens/giftcards/GiftCardsScreen"));
const DataScreen = lazy(() => import("./screens/data/DataScreen"));
const WebhooksScreen = lazy(() => import("./screens/webhooks/WebhooksScreen"));
const AccessScreen = lazy(() => import("./screens/access/AccessScreen"));

function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will not change by asking again; network trouble and 5xx may.
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
        staleTime: 10_000,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

function RequireSession() {
  const { session } = useSession();
  const location = useLocation();
  if (session === null) return <Navigate to="/connect" replace state={{ from: location.pathname }} />;
  return <Shell />;
}

function Allowed({ screen, children }: { screen: Screen; children: ReactNode }) {
  const { session } = useSession();
  if (session === null || !canOpen(session.role, screen)) return <Navigate to="/" replace />;
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

function Home() {
  const { session } = useSession();
  return <Navigate to={`/${homeScreen(session?.role ?? "cashier")}`} replace />;
}

export function App({ config }: { config: AppConfig }) {
  const [queryClient] = useState(newQueryClient);
  return (
    <MantineProvider theme={theme} cssVariablesResolver={cssVariables} defaultColorScheme="light">
      <Notifications position="top-center" />
      <QueryClientProvider client={queryClient}>
        <SessionProvider config={config}>
          <BrowserRouter basename="/app">
            <Routes>
              <Route path="/connect" element={<ConnectScreen />} />
              <Route element={<RequireSession />}>
                <Route index element={<Home />} />
                <Route path="overview" element={<Allowed screen="overview"><OverviewScreen /></Allowed>} />
                <Route path="till" element={<Allowed screen="till"><TillScreen /></Allowed>} />
                <Route path="members" element={<Allowed screen="members"><Outlet /></Allowed>}>
                  <Route index element={<MembersScreen />} />
                  <Route path=":memberId" element={<MemberPage />} />
                </Route>
                <Route path="program" element={<Allowed screen="program"><ProgramScreen /></Allowed>} />
                <Route path="rewards" element={<Allowed screen="rewards"><RewardsScreen /></Allowed>} />
                <Route
                  path="notifications"
                  element={<Allowed screen="notifications"><NotificationsScreen /></Allowed>}
                />
                <Route path="gift-cards" element={<Allowed screen="gift-cards"><GiftCardsScreen /></Allowed>} />
                <Route path="data" element={<Allowed screen="data"><DataScreen /></Allowed>} />
                <Route path="webhooks" element={<Allowed screen="webhooks"><WebhooksScreen /></Allowed>} />
                <Route path="access" element={<Allowed screen="access"><AccessScreen /></Allowed>} />
              </Route>
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}
