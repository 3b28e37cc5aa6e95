// engine/http/dashboard_page.h. The dashboard (engine/http/dashboard.html), compiled into the
// binary at build time so that `sluice serve` needs no files and no network.
#pragma once

#include "absl/strings/string_view.h"

namespace sluice::engine::http {

// The whole page: HTML with its CSS and JavaScript inline.
absl::string_view DashboardHtml();

}  // namespace sluice::engine::http
