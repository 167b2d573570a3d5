#include "connectors/window_state.hpp"

#include <nlohmann/json.hpp>

namespace sluice::connectors {

Result<WindowState> WindowState::Parse(std::string_view state_json) {
  WindowState state;
  if (state_json.empty() || state_json == "{}") return state;
  auto json = nlohmann::json::parse(state_json, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    return Status::DataError("the stored window state is not a JSON object");
  if (json.contains("window_start") && json["window_start"].is_string()) {
    state.start = json["window_start"].get<std::string>();
    state.stop = json.contains("window_stop") && json["window_stop"].is_string()
                     ? json["window_stop"].get<std::string>()
                     : std::string();
  }
  if (json.contains("window_history") && json["window_history"].is_array())
    state.history_json = json["window_history"].dump();
  return state;
}

std::string WindowState::ToJson() const {
  nlohmann::json json = nlohmann::json::object();
  if (start) {
    json["window_start"] = *start;
    json["window_stop"] = stop.value_or("");
  }
  json["window_history"] = nlohmann::json::parse(history_json, nullptr, false);
  if (json["window_history"].is_discarded()) json["window_history"] = nlohmann::json::array();
  return json.dump();
}

}  // namespace sluice::connectors
