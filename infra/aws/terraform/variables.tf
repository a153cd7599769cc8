variable "name" {
  description = "Prefix of the created resources' names."
  type        = string
  default     = "hcserver"
}

variable "monitoring_principal_arn" {
  description = "ARN of the IAM principal hcserver runs as; it alone may assume the poller role."
  type        = string
}

variable "external_id" {
  description = "The integration's external id (manage.py aws_integration show)."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.external_id) >= 16
    error_message = "The external id must be at least 16 characters."
  }
}

variable "autoscaling_group_name" {
  description = "Optional group to give a launch lifecycle hook (instances wait until their check exists, at most 5 minutes)."
  type        = string
  default     = ""
}

variable "message_retention_seconds" {
  description = "How long undelivered events wait for hcserver."
  type        = number
  default     = 1209600
}
