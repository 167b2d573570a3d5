// A read-only Iceberg REST catalog (Apache Iceberg "REST Catalog API" spec): config, namespaces, tables and
// load table, served from the catalog's iceberg_tables rows and the metadata files they point at, so engines
// that speak the protocol open the lake with this server as their catalog. Writes are not offered.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <set>

#include "common/hash.hpp"
#include "common/strings.hpp"
#include "iceberg/publisher.hpp"
#include "server/api_server.hpp"
#include "server/json_response.hpp"

namespace sluice::server {
namespace {

using nlohmann::json;

/// The REST spec's ErrorModel.
void SendIcebergError(httplib::Response& response, int code, const std::string& type, const std::string& message) {
  response.status = code;
  response.set_content(json{{"error", {{"message", message}, {"type", type}, {"code", code}}}}.dump(),
                       "application/json");
}

}  // namespace

void ApiServer::IcebergRoutes() {
  // Every route asks for the API token: the metadata names every file of the lake.
  auto authorized = [this](const httplib::Request& request, httplib::Response& response) {
    std::string authorization = request.get_header_value("Authorization");
    std::string bearer = StartsWith(authorization, "Bearer ") ? authorization.substr(7) : "";
    if (ConstantTimeEquals(bearer, options_.token.Reveal())) return true;
    response.set_header("WWW-Authenticate", "Bearer");
    SendIcebergError(response, 401, "NotAuthorizedException",
                     "missing or wrong token: configure the Iceberg client with the API token of sluice serve "
                     "(server.token, or the file .sluice/api_token) as its bearer token");
    return false;
  };
  auto pointers = [this](httplib::Response& response) -> std::optional<std::vector<catalog::TableFormatPointer>> {
    auto listed = workspace_.catalog().ListTableFormatPointers();
    if (!listed.ok()) {
      SendIcebergError(response, 500, "ServiceFailureException", workspace_.Redact(listed.status().message()));
      return std::nullopt;
    }
    return std::move(*listed);
  };

  http_->Get("/iceberg/v1/config", [=](const httplib::Request& request, httplib::Response& response) {
    if (!authorized(request, response)) return;
    json endpoints = json::array({"GET /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}",
                                  "GET /v1/{prefix}/namespaces/{namespace}/tables",
                                  "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}"});
    SendJson(response, 200,
             json{{"defaults", json::object()}, {"overrides", json::object()}, {"endpoints", endpoints}});
  });

  http_->Get("/iceberg/v1/namespaces", [=](const httplib::Request& request, httplib::Response& response) {
    if (!authorized(request, response)) return;
    if (request.has_param("parent")) {  // zones are the only level: nothing is nested below one
      return SendJson(response, 200, json{{"namespaces", json::array()}});
    }
    auto listed = pointers(response);
    if (!listed) return;
    std::set<std::string> zones;
    for (const auto& p : *listed) zones.insert(p.table.zone);
    json namespaces = json::array();
    for (const auto& zone : zones) namespaces.push_back(json::array({zone}));
    SendJson(response, 200, json{{"namespaces", namespaces}});
  });

  http_->Get(R"(/iceberg/v1/namespaces/([^/]+))", [=](const httplib::Request& request, httplib::Response& response) {
    if (!authorized(request, response)) return;
    auto listed = pointers(response);
    if (!listed) return;
    std::string zone = request.matches[1];
    for (const auto& p : *listed) {
      if (p.table.zone == zone)
        return SendJson(response, 200, json{{"namespace", {zone}}, {"properties", json::object()}});
    }
    SendIcebergError(
        response, 404, "NoSuchNamespaceException",
        fmt::format("namespace '{}' has no table with Iceberg metadata (namespaces are lake zones)", zone));
  });

  http_->Get(R"(/iceberg/v1/namespaces/([^/]+)/tables)",
             [=](const httplib::Request& request, httplib::Response& response) {
               if (!authorized(request, response)) return;
               auto listed = pointers(response);
               if (!listed) return;
               std::string zone = request.matches[1];
               json identifiers = json::array();
               for (const auto& p : *listed) {
                 if (p.table.zone == zone) identifiers.push_back({{"namespace", {zone}}, {"name", p.table.name}});
               }
               if (identifiers.empty()) {
                 return SendIcebergError(response, 404, "NoSuchNamespaceException",
                                         fmt::format("namespace '{}' has no table with Iceberg metadata", zone));
               }
               SendJson(response, 200, json{{"identifiers", identifiers}});
             });

  http_->Get(R"(/iceberg/v1/namespaces/([^/]+)/tables/([^/]+))", [=, this](const httplib::Request& request,
                                                                           httplib::Response& response) {
    if (!authorized(request, response)) return;
    catalog::TableName name{request.matches[1], request.matches[2]};
    auto pointer = workspace_.catalog().GetTableFormatPointer(name);
    if (!pointer.ok()) {
      return SendIcebergError(response, 500, "ServiceFailureException", workspace_.Redact(pointer.status().message()));
    }
    if (!pointer->has_value()) {
      return SendIcebergError(response, 404, "NoSuchTableException",
                              fmt::format("table {} has no Iceberg metadata (table_format: iceberg in sluice.yaml "
                                          "publishes it on the next commit; `sluice catalog export-iceberg {}` now)",
                                          name.ToString(), name.ToString()));
    }
    iceberg::IcebergPublisher lake_paths(workspace_.lake());
    auto key = lake_paths.KeyOf((*pointer)->metadata_location);
    auto text = key.ok() ? workspace_.lake().Get(*key) : Result<std::string>(key.status());
    if (!text.ok()) {
      return SendIcebergError(response, 500, "ServiceFailureException", workspace_.Redact(text.status().message()));
    }
    json metadata = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (metadata.is_discarded()) {
      return SendIcebergError(response, 500, "ServiceFailureException",
                              fmt::format("the metadata of {} is not valid JSON; rebuild it with `sluice catalog "
                                          "export-iceberg {}`",
                                          name.ToString(), name.ToString()));
    }
    SendJson(
        response, 200,
        json{{"metadata-location", (*pointer)->metadata_location}, {"metadata", metadata}, {"config", json::object()}});
  });
}

}  // namespace sluice::server
