#include "server/ui_assets.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace sluice::server {
namespace {

const UiAsset* Find(std::string_view path) {
  for (const auto& asset : UiAssets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

TEST(UiAssetsTest, TheWholeUiIsEmbeddedWithItsTypes) {
  const UiAsset* index = Find("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(std::string(index->content_type), "text/html; charset=utf-8");
  std::string_view html(reinterpret_cast<const char*>(index->data), index->size);
  EXPECT_NE(html.find("<script type=\"module\" src=\"/js/app.js\"></script>"), std::string_view::npos);
  const UiAsset* app = Find("/js/app.js");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(std::string(app->content_type), "text/javascript; charset=utf-8");
  EXPECT_GT(app->size, 100u);
  ASSERT_NE(Find("/css/style.css"), nullptr);
  EXPECT_EQ(Find("/nonexistent.js"), nullptr);
}

TEST(UiAssetsTest, NoPageCarriesInlineScriptOrStyle) {
  // The Content-Security-Policy forbids them; a page relying on one would break silently.
  for (const auto& asset : UiAssets()) {
    std::string_view text(reinterpret_cast<const char*>(asset.data), asset.size);
    if (std::string_view(asset.path).ends_with(".html")) {
      EXPECT_EQ(text.find("<script>"), std::string_view::npos) << asset.path;
      EXPECT_EQ(text.find("<style"), std::string_view::npos) << asset.path;
      EXPECT_EQ(text.find(" style="), std::string_view::npos) << asset.path;
      EXPECT_EQ(text.find(" onclick="), std::string_view::npos) << asset.path;
    }
    if (std::string_view(asset.path).ends_with(".js")) {
      EXPECT_EQ(text.find("innerHTML"), std::string_view::npos) << asset.path << " builds markup from strings";
      EXPECT_EQ(text.find("eval("), std::string_view::npos) << asset.path;
    }
  }
}

}  // namespace
}  // namespace sluice::server
