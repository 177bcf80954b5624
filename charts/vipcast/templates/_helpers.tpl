{{/* Labels of every object: the component is given as the argument's "component". */}}
{{- define "vipcast.labels" -}}
{app.kubernetes.io/name: vipcast, app.kubernetes.io/component: {{ .component }}}
{{- end }}

{{/* The image reference, the tag defaulting to the chart's appVersion. */}}
{{- define "vipcast.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion | toString }}
{{- end }}

{{/* Arguments both programs take: where their Leases and ConfigMap live, the config source, the Service class. */}}
{{- define "vipcast.commonArgs" -}}
- --namespace={{ .Release.Namespace }}
{{- if ne .Values.configSource "vipcast" }}
- --config-source={{ .Values.configSource }}
{{- end }}
{{- if and (eq .Values.configSource "metallb") (ne .Values.metallb.namespace "metallb-system") }}
- --metallb-namespace={{ .Values.metallb.namespace }}
{{- end }}
{{- with .Values.loadBalancerClass }}
- --load-balancer-class={{ . }}
{{- end }}
{{- if ne .Values.logLevel "info" }}
- --log-level={{ .Values.logLevel }}
{{- end }}
{{- end }}

{{/* Fails the render on values the programs would refuse. */}}
{{- define "vipcast.check" -}}
{{- if not (has .Values.configSource (list "vipcast" "kube-vip" "metallb")) }}
{{- fail (printf "configSource: %q is not vipcast, kube-vip or metallb" .Values.configSource) }}
{{- end }}
{{- if and .Values.config (ne .Values.configSource "vipcast") }}
{{- fail "config: is read only with configSource vipcast; with kube-vip the pools come from kube-system/kubevip, with metallb from MetalLB's objects" }}
{{- end }}
{{- if and (ne .Values.configSource "metallb") (ne .Values.metallb.namespace "metallb-system") }}
{{- fail "metallb.namespace: is read only with configSource metallb" }}
{{- end }}
{{- if not (has .Values.logLevel (list "debug" "info" "warn" "error")) }}
{{- fail (printf "logLevel: %q is not debug, info, warn or error" .Values.logLevel) }}
{{- end }}
{{- end }}
