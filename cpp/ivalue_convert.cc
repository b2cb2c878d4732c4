#include "ivalue_convert.h"

#include <cmath>

#include "device.h"
#include "errors.h"
#include "tensor.h"

namespace videovae {
namespace {

[[noreturn]] void Mismatch(const ArgumentContext& context, const c10::TypePtr& type, const char* got) {
  throw CodedError(code::kArgument, context.where + ": expected " + type->annotation_str() + ", got " + got);
}

const char* JsTypeName(const Napi::Value& value) {
  if (value.IsNull() || value.IsUndefined()) return "null";
  if (IsTensorHandle(value)) return "Tensor";
  if (value.IsArray()) return "array";
  if (value.IsNumber()) return "number";
  if (value.IsBoolean()) return "boolean";
  if (value.IsString()) return "string";
  return "object";
}

at::Tensor TensorArgument(const Napi::Value& value, const ArgumentContext& context) {
  at::Tensor tensor = UnwrapTensor(value, context.where);
  if (tensor.device() != context.device) {
    throw CodedError(code::kDevice, context.where + " is on " + DeviceName(tensor.device()) + " but the module is on " +
                                        DeviceName(context.device) + "; move it first with tensor.to({ device: '" +
                                        DeviceName(context.device) + "' })");
  }
  return tensor;
}

// Without a precise schema type (Any, or elements of an untyped container) the JS value decides.
c10::IValue Infer(const Napi::Value& value, const ArgumentContext& context) {
  if (value.IsNull() || value.IsUndefined()) return c10::IValue();
  if (IsTensorHandle(value)) return TensorArgument(value, context);
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
  if (value.IsNumber()) {
    double d = value.As<Napi::Number>().DoubleValue();
    if (std::trunc(d) == d && std::abs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
    return d;
  }
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsArray()) {
    Napi::Array array = value.As<Napi::Array>();
    std::vector<c10::IValue> items;
    bool all_tensors = array.Length() > 0;
    for (uint32_t i = 0; i < array.Length(); ++i) {
      items.push_back(Infer(array.Get(i), context));
      all_tensors = all_tensors && items.back().isTensor();
    }
    if (all_tensors) {
      c10::List<at::Tensor> list;
      for (auto& item : items) list.push_back(item.toTensor());
      return list;
    }
    return c10::ivalue::Tuple::create(std::move(items));
  }
  throw CodedError(code::kArgument, context.where + ": cannot pass a value of type " + JsTypeName(value));
}

}  // namespace

c10::IValue ToIValue(const Napi::Value& value, const c10::TypePtr& type, const ArgumentContext& context) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      if (!IsTensorHandle(value)) Mismatch(context, type, JsTypeName(value));
      return TensorArgument(value, context);
    case c10::TypeKind::IntType: {
      if (!value.IsNumber()) Mismatch(context, type, JsTypeName(value));
      double d = value.As<Napi::Number>().DoubleValue();
      if (std::trunc(d) != d) Mismatch(context, type, "a fractional number");
      return static_cast<int64_t>(d);
    }
    case c10::TypeKind::FloatType:
      if (!value.IsNumber()) Mismatch(context, type, JsTypeName(value));
      return value.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::NumberType:
      if (!value.IsNumber()) Mismatch(context, type, JsTypeName(value));
      return Infer(value, context);
    case c10::TypeKind::BoolType:
      if (!value.IsBoolean()) Mismatch(context, type, JsTypeName(value));
      return value.As<Napi::Boolean>().Value();
    case c10::TypeKind::StringType:
      if (!value.IsString()) Mismatch(context, type, JsTypeName(value));
      return value.As<Napi::String>().Utf8Value();
    case c10::TypeKind::NoneType:
      if (!value.IsNull() && !value.IsUndefined()) Mismatch(context, type, JsTypeName(value));
      return c10::IValue();
    case c10::TypeKind::DeviceObjType:
      if (!value.IsString()) Mismatch(context, type, JsTypeName(value));
      return ParseDevice(value.As<Napi::String>());
    case c10::TypeKind::OptionalType:
      if (value.IsNull() || value.IsUndefined()) return c10::IValue();
      return ToIValue(value, type->expectRef<c10::OptionalType>().getElementType(), context);
    case c10::TypeKind::ListType: {
      if (!value.IsArray()) Mismatch(context, type, JsTypeName(value));
      Napi::Array array = value.As<Napi::Array>();
      const c10::TypePtr& element = type->expectRef<c10::ListType>().getElementType();
      c10::impl::GenericList list(element);
      for (uint32_t i = 0; i < array.Length(); ++i) list.push_back(ToIValue(array.Get(i), element, context));
      return list;
    }
    case c10::TypeKind::TupleType: {
      const auto& elements = type->expectRef<c10::TupleType>().elements();
      if (!value.IsArray() || value.As<Napi::Array>().Length() != elements.size()) {
        Mismatch(context, type, value.IsArray() ? "an array of another length" : JsTypeName(value));
      }
      Napi::Array array = value.As<Napi::Array>();
      std::vector<c10::IValue> items;
      for (uint32_t i = 0; i < array.Length(); ++i) items.push_back(ToIValue(array.Get(i), elements[i], context));
      return c10::ivalue::Tuple::create(std::move(items));
    }
    case c10::TypeKind::DictType: {
      const auto& dict_type = type->expectRef<c10::DictType>();
      if (!value.IsObject() || value.IsArray() || IsTensorHandle(value) ||
          dict_type.getKeyType()->kind() != c10::TypeKind::StringType) {
        Mismatch(context, type, JsTypeName(value));
      }
      Napi::Object object = value.As<Napi::Object>();
      c10::impl::GenericDict dict(dict_type.getKeyType(), dict_type.getValueType());
      Napi::Array keys = object.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); ++i) {
        std::string key = keys.Get(i).ToString();
        dict.insert(key, ToIValue(object.Get(key), dict_type.getValueType(), context));
      }
      return dict;
    }
    default:
      return Infer(value, context);
  }
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& value) {
  if (value.isNone()) return env.Null();
  if (value.isTensor()) {
    const at::Tensor& tensor = value.toTensor();
    return tensor.defined() ? WrapTensor(env, tensor) : env.Null();
  }
  if (value.isBool()) return Napi::Boolean::New(env, value.toBool());
  if (value.isInt()) return Napi::Number::New(env, static_cast<double>(value.toInt()));
  if (value.isDouble()) return Napi::Number::New(env, value.toDouble());
  if (value.isString()) return Napi::String::New(env, value.toStringRef());
  if (value.isDevice()) return Napi::String::New(env, DeviceName(value.toDevice()));
  if (value.isList() || value.isTuple()) {
    std::vector<c10::IValue> items =
        value.isList() ? value.toListRef().vec() : value.toTupleRef().elements().vec();
    Napi::Array array = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); ++i) array.Set(static_cast<uint32_t>(i), FromIValue(env, items[i]));
    return array;
  }
  if (value.isGenericDict()) {
    Napi::Object object = Napi::Object::New(env);
    for (const auto& entry : value.toGenericDict()) {
      const c10::IValue& key = entry.key();
      std::string name = key.isString() ? key.toStringRef() : key.isInt() ? std::to_string(key.toInt()) : "";
      if (name.empty() && !key.isString()) {
        throw CodedError(code::kModule, "dict results need string or int keys, got " + key.tagKind());
      }
      object.Set(name, FromIValue(env, entry.value()));
    }
    return object;
  }
  throw CodedError(code::kModule, "cannot return a value of type " + value.tagKind() + " to JavaScript");
}

}  // namespace videovae
